// GET /console/data/images: one sorted page of an image view (src/domain/console/image-table.ts).
import { ImageTable, parseImageTableRequest } from '../../../domain/console/image-table.ts';
import type { ConsoleView } from './index.ts';

export const imagesView: ConsoleView = {
  method: 'GET',
  async handle(app, ctx, params) {
    const req = parseImageTableRequest(params);
    await ctx.authorize?.ec2('DescribeImages', {});
    return new ImageTable({ store: app.store, clock: app.clock, allowedImages: app.ec2.allowedImages }).page(ctx.caller, req);
  },
};
