// The shape of an Image Builder handler: the codec's parsed input (the generated request type),
// the request's context and the services; it returns the generated response type. Handlers only
// map: rules live in src/domain/imagebuilder.
import type { RequestContext } from '../../domain/context.ts';
import type { ImageBuilderServices } from '../../domain/imagebuilder/services.ts';
import type { IbOperations } from '../../protocol/imagebuilder/types.generated.ts';

export type IbHandler<Op extends keyof IbOperations> = (
  input: IbOperations[Op]['input'], ctx: RequestContext, ib: ImageBuilderServices,
) => Promise<IbOperations[Op]['output']>;

/** Handlers of one area (components, recipes, builds, ...); src/api/imagebuilder/handlers merges them. */
export type IbHandlers = { [Op in keyof IbOperations]?: IbHandler<Op> };
