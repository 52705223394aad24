import type { Ec2HandlerTable } from './handler.ts';

export const keyPairHandlers: Ec2HandlerTable = {
  CreateKeyPair: (input, ctx, s) => s.keyPairs.create(ctx.caller, input),
  ImportKeyPair: (input, ctx, s) => s.keyPairs.import(ctx.caller, input),
  DescribeKeyPairs: (input, ctx, s) => s.keyPairs.describe(ctx.caller, input),
  DeleteKeyPair: (input, ctx, s) => s.keyPairs.delete(ctx.caller, input),
};
