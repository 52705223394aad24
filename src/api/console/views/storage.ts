// The storage views: GET storage (the account's share of the storage report), GET
// cleanup-preview, POST cleanup {snapshotIds} (src/domain/console/account-storage.ts).
import { AccountStorageView } from '../../../domain/console/account-storage.ts';
import { Errors } from '../../../domain/errors.ts';
import type { App } from '../../../server/app.ts';
import type { ConsoleView } from './index.ts';

const storageOf = (app: App) => new AccountStorageView({ store: app.store, maintenance: app.maintenance, snapshots: app.ec2.snapshots });

export const storageView: ConsoleView = {
  method: 'GET',
  async handle(app, ctx, params) {
    await ctx.authorize?.ec2('DescribeSnapshots', {});
    return storageOf(app).usage(ctx.caller, { allRegions: params.get('allRegions') === '1' });
  },
};

export const cleanupPreviewView: ConsoleView = {
  method: 'GET',
  async handle(app, ctx) {
    await ctx.authorize?.ec2('DescribeSnapshots', {});
    return storageOf(app).preview(ctx.caller);
  },
};

export const cleanupView: ConsoleView = {
  method: 'POST',
  async handle(app, ctx, _params, body) {
    const ids = (body as { snapshotIds?: unknown } | undefined)?.snapshotIds;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      throw Errors.invalidParameterValue('snapshotIds must be a list of snapshot ids.');
    }
    const authorize = ctx.authorize && ((SnapshotId: string) => ctx.authorize!.ec2('DeleteSnapshot', { SnapshotId }));
    return storageOf(app).cleanUp(ctx.caller, ids as string[], authorize);
  },
};
