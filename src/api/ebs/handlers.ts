// EBS direct API handlers: the codec binds input from path, headers and body; rules live in
// EbsDirectService. Each handler only maps.
import type { RequestContext } from '../../domain/context.ts';
import type { EbsDirectService } from '../../domain/snapshots/ebs-direct-service.ts';
import type { EbsOperations } from '../../protocol/ebs/types.generated.ts';

type Handler<Op extends keyof EbsOperations> = (
  input: EbsOperations[Op]['input'], ctx: RequestContext, ebs: EbsDirectService,
) => Promise<EbsOperations[Op]['output']>;

export const ebsHandlers: { [Op in keyof EbsOperations]: Handler<Op> } = {
  StartSnapshot: (input, ctx, ebs) => ebs.start(ctx.caller, input),
  PutSnapshotBlock: (input, ctx, ebs) => ebs.putBlock(ctx.caller, input),
  CompleteSnapshot: (input, ctx, ebs) => ebs.complete(ctx.caller, input),
  GetSnapshotBlock: (input, ctx, ebs) => ebs.getBlock(ctx.caller, input),
  ListSnapshotBlocks: (input, ctx, ebs) => ebs.listBlocks(ctx.caller, input),
  ListChangedBlocks: (input, ctx, ebs) => ebs.listChangedBlocks(ctx.caller, input),
};
