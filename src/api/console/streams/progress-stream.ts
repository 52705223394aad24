// Progress of long operations: GET /console/stream/progress?ids=snap-...,ami-...,arn:aws:imagebuilder:...
// Events: `progress` {id, kind, state, progress, message} for each operation at the start and
// whenever it changes, then `done` {ids} once every one is finished (or gone). The same
// visibility as DescribeSnapshots, DescribeImages and GetImage (each id is read through them, and
// an IAM-style user's policies are asked first); an id the caller cannot see refuses the stream.
// Nothing pushes these changes, so they are read every PROGRESS_POLL_MS on the server.
import { ServiceError, Errors } from '../../../domain/errors.ts';
import { operationKindOf, readProgress, type OperationKind, type OperationProgress } from '../../../domain/console/operation-progress.ts';
import type { App } from '../../../server/app.ts';
import type { ConsoleContext } from '../views/index.ts';
import type { ConsoleStream } from './index.ts';
import { requiredParam, streamLife } from './stream-life.ts';

const PROGRESS_POLL_MS = 500;
const MAX_IDS = 100;

async function authorize(ctx: ConsoleContext, kind: OperationKind, id: string): Promise<void> {
  if (kind === 'snapshot') await ctx.authorize?.ec2('DescribeSnapshots', { SnapshotIds: [id] });
  else if (kind === 'image') await ctx.authorize?.ec2('DescribeImages', { ImageIds: [id] });
  else await ctx.authorize?.imagebuilder('GetImage', { imageBuildVersionArn: id });
}

const sources = (app: App) => ({ snapshots: app.ec2.snapshots, images: app.ec2.images, builds: app.imageBuilder.builds });

export const progressStream: ConsoleStream = async (app, ctx, params, sink) => {
  const ids = [...new Set(requiredParam(params, 'ids').split(',').map((s) => s.trim()).filter(Boolean))];
  if (!ids.length) throw Errors.missingParameter('ids');
  if (ids.length > MAX_IDS) throw Errors.invalidParameterValue(`At most ${MAX_IDS} ids can be followed at once.`);
  const kinds = new Map(ids.map((id) => [id, operationKindOf(id)]));
  for (const [id, kind] of kinds) await authorize(ctx, kind, id);
  // The first reads refuse the stream for an id the caller cannot see, before anything is sent.
  const latest = new Map<string, OperationProgress>();
  for (const [id, kind] of kinds) latest.set(id, await readProgress(sources(app), ctx.caller, kind, id));
  const life = streamLife(sink);
  const send = ({ terminal: _terminal, ...p }: OperationProgress) => sink.send('progress', p);
  for (const p of latest.values()) send(p);
  while (!life.closed) {
    const open = [...latest.values()].filter((p) => !p.terminal);
    if (!open.length) {
      sink.send('done', { ids });
      return;
    }
    await life.pause(PROGRESS_POLL_MS);
    if (life.closed) return;
    for (const before of open) {
      const now = await readProgress(sources(app), ctx.caller, before.kind, before.id).catch((err) => {
        if (!(err instanceof ServiceError) || err.status >= 500) return before; // a store's hiccup: read again next time
        // Deleted or deregistered meanwhile (or no longer shared): finished, as far as this caller can see.
        return { ...before, state: 'gone', message: err.message, terminal: true };
      });
      if (now.state !== before.state || now.progress !== before.progress || now.message !== before.message) send(now);
      latest.set(before.id, now);
    }
  }
};
