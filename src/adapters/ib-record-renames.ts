// The Image Builder record members renamed when amiforge's own bookkeeping stopped being
// `_`-prefixed members of a wire document (SQLite migration 5, PostgreSQL migration 5). Frozen
// with those migrations: it lists what earlier releases wrote, whatever the records become later.
import type { IbKind } from '../ports/imagebuilder-repository.ts';

export const IB_MEMBER_RENAMES: Partial<Record<IbKind, Record<string, string>>> = {
  image: { _resources: 'buildResources', _hygiene: 'hygieneScan', _packages: 'installedPackages' },
  'image-pipeline': { _scheduleAnchor: 'scheduleAnchor', _lastBuild: 'lastBuild' },
  'workflow-step-execution': { _seq: 'sequence', _log: 'logLines' },
  'lifecycle-execution': { _preview: 'preview', _planned: 'planned', _manual: 'manualUpdate' },
  'lifecycle-execution-resource': {
    _parent: 'parentImageArn', _kind: 'resourceKind', _action: 'plannedAction', _withSnapshots: 'withSnapshots', _includeAmis: 'includeAmis',
  },
};

/** A document with its old members under their new names; members already renamed are left as they are. */
export function renameIbMembers(kind: string, doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const renames = IB_MEMBER_RENAMES[kind as IbKind];
  if (!renames || !Object.keys(doc).some((k) => Object.hasOwn(renames, k))) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[Object.hasOwn(renames, k) ? renames[k] : k] = v;
  return out;
}
