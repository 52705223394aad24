// KMS API handlers: the json 1.1 codec binds input; the rules live in KmsService. Each handler
// only maps. Operations of KMS's model without a handler answer UnsupportedOperationException.
import type { RequestContext } from '../../domain/context.ts';
import type { KmsService } from '../../domain/kms/kms-service.ts';
import type { KmsOperations } from '../../protocol/kms/types.generated.ts';

type Handler<Op extends keyof KmsOperations> = (
  input: KmsOperations[Op]['input'], ctx: RequestContext, kms: KmsService,
) => Promise<KmsOperations[Op]['output']>;

export const kmsHandlers: { [Op in keyof KmsOperations]?: Handler<Op> } = {
  CreateKey: (input, ctx, kms) => kms.keys.create(ctx.caller, input),
  DescribeKey: (input, ctx, kms) => kms.keys.describe(ctx.caller, input),
  ListKeys: (input, ctx, kms) => kms.keys.list(ctx.caller, input),
  EnableKey: (input, ctx, kms) => kms.keys.enable(ctx.caller, input),
  DisableKey: (input, ctx, kms) => kms.keys.disable(ctx.caller, input),
  ScheduleKeyDeletion: (input, ctx, kms) => kms.keys.scheduleDeletion(ctx.caller, input),
  CancelKeyDeletion: (input, ctx, kms) => kms.keys.cancelDeletion(ctx.caller, input),
  GetKeyPolicy: (input, ctx, kms) => kms.keys.getPolicy(ctx.caller, input),
  PutKeyPolicy: (input, ctx, kms) => kms.keys.putPolicy(ctx.caller, input),
  ListKeyPolicies: (input, ctx, kms) => kms.keys.listPolicies(ctx.caller, input),
  TagResource: (input, ctx, kms) => kms.keys.tag(ctx.caller, input),
  UntagResource: (input, ctx, kms) => kms.keys.untag(ctx.caller, input),
  ListResourceTags: (input, ctx, kms) => kms.keys.listTags(ctx.caller, input),
  UpdateKeyDescription: (input, ctx, kms) => kms.keys.updateDescription(ctx.caller, input),
  CreateAlias: (input, ctx, kms) => kms.aliases.create(ctx.caller, input),
  UpdateAlias: (input, ctx, kms) => kms.aliases.update(ctx.caller, input),
  DeleteAlias: (input, ctx, kms) => kms.aliases.delete(ctx.caller, input),
  ListAliases: (input, ctx, kms) => kms.aliases.list(ctx.caller, input),
  CreateGrant: (input, ctx, kms) => kms.grants.create(ctx.caller, input),
  ListGrants: (input, ctx, kms) => kms.grants.list(ctx.caller, input),
  ListRetirableGrants: (input, ctx, kms) => kms.grants.listRetirable(ctx.caller, input),
  RetireGrant: (input, ctx, kms) => kms.grants.retire(ctx.caller, input),
  RevokeGrant: (input, ctx, kms) => kms.grants.revoke(ctx.caller, input),
  Encrypt: (input, ctx, kms) => kms.crypto.encrypt(ctx.caller, input),
  Decrypt: (input, ctx, kms) => kms.crypto.decrypt(ctx.caller, input),
  ReEncrypt: (input, ctx, kms) => kms.crypto.reEncrypt(ctx.caller, input),
  GenerateDataKey: (input, ctx, kms) => kms.crypto.generateDataKey(ctx.caller, input),
  GenerateDataKeyWithoutPlaintext: (input, ctx, kms) => kms.crypto.generateDataKeyWithoutPlaintext(ctx.caller, input),
  GenerateRandom: async (input, _ctx, kms) => kms.crypto.generateRandom(input),
};
