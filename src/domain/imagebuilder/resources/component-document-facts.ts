// What Image Builder reads out of a component document when it stores a component: its declared
// parameters (shown by GetComponent) and its type (TEST when the document has only a test phase,
// BUILD otherwise). Validation itself is the document validator's; this only reads.
import { parse, stringify } from 'yaml';
import type { ComponentParameterDetail } from '../../../protocol/imagebuilder/types.generated.ts';

export interface DocumentFacts {
  parameters: ComponentParameterDetail[];
  type: 'BUILD' | 'TEST';
}

export function documentFacts(data: string): DocumentFacts {
  let doc: unknown;
  try {
    doc = parse(data);
  } catch {
    doc = undefined;
  }
  const root = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const parameters: ComponentParameterDetail[] = [];
  for (const entry of Array.isArray(root.parameters) ? root.parameters : []) {
    if (!entry || typeof entry !== 'object') continue;
    for (const [name, spec] of Object.entries(entry as Record<string, unknown>)) {
      const s = (spec && typeof spec === 'object' ? spec : {}) as Record<string, unknown>;
      const detail: ComponentParameterDetail = { name, type: typeof s.type === 'string' ? s.type : 'string' };
      if (s.default !== undefined && s.default !== null) detail.defaultValue = [String(s.default)];
      if (typeof s.description === 'string') detail.description = s.description;
      parameters.push(detail);
    }
  }
  const phases = (Array.isArray(root.phases) ? root.phases : [])
    .map((p) => (p && typeof p === 'object' ? String((p as Record<string, unknown>).name ?? '') : ''));
  const type = phases.length > 0 && phases.every((p) => p === 'test') ? 'TEST' : 'BUILD';
  return { parameters, type };
}

/**
 * ImportComponent's SHELL format: the script becomes a component document with one step running
 * it (ExecuteBash; ExecutePowerShell for Windows) in the phase the component's type names.
 */
export function shellScriptDocument(opts: { name: string; description?: string; type: 'BUILD' | 'TEST'; platform: string; script: string }): string {
  return stringify({
    name: opts.name,
    description: opts.description ?? `Imported from a shell script (${opts.name}).`,
    schemaVersion: 1.0,
    phases: [{
      name: opts.type === 'TEST' ? 'test' : 'build',
      steps: [{
        name: 'ImportedScript',
        action: opts.platform === 'Windows' ? 'ExecutePowerShell' : 'ExecuteBash',
        inputs: { commands: [opts.script] },
      }],
    }],
  });
}
