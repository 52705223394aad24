// Image recipe handlers (ImageRecipeService).
import type { IbHandlers } from '../handler-types.ts';

export const recipeHandlers: IbHandlers = {
  CreateImageRecipe: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.imageRecipes.create(ctx.caller, input)),
  }),
  GetImageRecipe: async (input, ctx, ib) => ({ imageRecipe: await ib.imageRecipes.get(ctx.caller, input.imageRecipeArn) }),
  ListImageRecipes: (input, ctx, ib) => ib.imageRecipes.list(ctx.caller, input),
  DeleteImageRecipe: async (input, ctx, ib) => {
    await ib.imageRecipes.delete(ctx.caller, input.imageRecipeArn);
    return { imageRecipeArn: input.imageRecipeArn };
  },
};
