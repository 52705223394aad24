// Image recipe handlers (ImageRecipeService).
import type { IbHandlers } from '../handler-types.ts';

export const recipeHandlers: IbHandlers = {
  CreateImageRecipe: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, ...(await ib.imageRecipes.create(ctx.caller, input)),
  }),
  GetImageRecipe: async (input, ctx, ib) => ({ requestId: ctx.requestId, imageRecipe: await ib.imageRecipes.get(ctx.caller, input.imageRecipeArn) }),
  ListImageRecipes: async (input, ctx, ib) => ({ requestId: ctx.requestId, ...(await ib.imageRecipes.list(ctx.caller, input)) }),
  DeleteImageRecipe: async (input, ctx, ib) => {
    await ib.imageRecipes.delete(ctx.caller, input.imageRecipeArn);
    return { requestId: ctx.requestId, imageRecipeArn: input.imageRecipeArn };
  },
};
