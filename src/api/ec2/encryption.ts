import type { Ec2HandlerTable } from './handler.ts';

export const encryptionHandlers: Ec2HandlerTable = {
  EnableEbsEncryptionByDefault: (_input, ctx, s) => s.encryption.enableByDefault(ctx.caller),
  DisableEbsEncryptionByDefault: (_input, ctx, s) => s.encryption.disableByDefault(ctx.caller),
  GetEbsEncryptionByDefault: (_input, ctx, s) => s.encryption.getByDefault(ctx.caller),
  GetEbsDefaultKmsKeyId: (_input, ctx, s) => s.encryption.getDefaultKey(ctx.caller),
  ModifyEbsDefaultKmsKeyId: (input, ctx, s) => s.encryption.modifyDefaultKey(ctx.caller, input.KmsKeyId),
  ResetEbsDefaultKmsKeyId: (_input, ctx, s) => s.encryption.resetDefaultKey(ctx.caller),
};
