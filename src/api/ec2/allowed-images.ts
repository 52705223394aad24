// Allowed AMIs settings and AMI ancestry: rules in AllowedImages and ImageAncestry; these only map.
import type { Ec2HandlerTable } from './handler.ts';

export const allowedImagesHandlers: Ec2HandlerTable = {
  EnableAllowedImagesSettings: (input, ctx, s) => s.allowedImages.enable(ctx.caller, input),
  DisableAllowedImagesSettings: (_input, ctx, s) => s.allowedImages.disable(ctx.caller),
  GetAllowedImagesSettings: (_input, ctx, s) => s.allowedImages.get(ctx.caller),
  ReplaceImageCriteriaInAllowedImagesSettings: async (input, ctx, s) => {
    await s.allowedImages.replaceCriteria(ctx.caller, input);
    return { ReturnValue: true };
  },
  GetImageAncestry: async (input, ctx, s) => ({ ImageAncestryEntries: await s.imageAncestry.ancestry(ctx.caller, input) }),
};
