// GET /console/data/lineage?imageId=: the image's lineage graph (src/domain/console/lineage.ts).
import { ImageLineage } from '../../../domain/console/lineage.ts';
import { Errors } from '../../../domain/errors.ts';
import type { ConsoleView } from './index.ts';

export const lineageView: ConsoleView = {
  method: 'GET',
  async handle(app, ctx, params) {
    const imageId = params.get('imageId');
    if (!imageId) throw Errors.invalidParameterValue('imageId is required.');
    await ctx.authorize?.ec2('DescribeImages', { ImageIds: [imageId] });
    return new ImageLineage({ store: app.store, images: app.ec2.images }).graph(ctx.caller, imageId);
  },
};
