// Dispatches one EC2 Query request: parse by the model, EC2-wide concerns once (unknown and
// unimplemented actions, DryRun), then the operation's handler, then serialize by the model.
import type { RequestContext } from '../../domain/context.ts';
import { Errors } from '../../domain/errors.ts';
import { ec2Model, knownEc2Actions } from '../../protocol/ec2/model.ts';
import { parseQueryInput } from '../../protocol/ec2/query-parser.ts';
import { serializeResponse } from '../../protocol/ec2/xml-serializer.ts';
import type { Ec2Handler, Ec2HandlerTable, Ec2OperationName, Ec2Services } from './handler.ts';
import { imageHandlers } from './images.ts';
import { regionHandlers } from './regions.ts';
import { tagHandlers } from './tags.ts';
import { snapshotHandlers } from './snapshots.ts';
import { volumeHandlers } from './volumes.ts';
import { encryptionHandlers } from './encryption.ts';
import { instanceHandlers } from './instances.ts';
import { keyPairHandlers } from './key-pairs.ts';
import { governanceHandlers } from './image-governance.ts';
import { allowedImagesHandlers } from './allowed-images.ts';
import { recycleBinHandlers } from './recycle-bin.ts';
import { networkHandlers } from './network.ts';

const handlers: Ec2HandlerTable = {
  ...imageHandlers, ...tagHandlers, ...regionHandlers, ...snapshotHandlers, ...volumeHandlers, ...instanceHandlers, ...keyPairHandlers, ...encryptionHandlers,
  ...allowedImagesHandlers, ...governanceHandlers,
  ...recycleBinHandlers, ...networkHandlers,
};

export const implementedEc2Actions = (): string[] => Object.keys(handlers).sort();

export async function dispatchEc2(
  action: string | undefined,
  fields: Iterable<[string, string]>,
  ctx: RequestContext,
  services: Ec2Services,
  /** Identity-policy authorization for IAM-style users; before DryRun, which answers whether the caller may. */
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
  /** `json`: the operation's output object as JSON (the web console) instead of EC2's XML. */
  render: 'xml' | 'json' = 'xml',
): Promise<string> {
  if (!action) throw Errors.missingParameter('Action');
  // Own properties only: an Action of `constructor`, `__proto__` or `toString` found Object.prototype's
  // members, which answered 200 or threw (a 500).
  const handler = Object.hasOwn(handlers, action)
    ? (handlers as Record<string, Ec2Handler<Ec2OperationName> | undefined>)[action]
    : undefined;
  if (!handler) {
    if (knownEc2Actions.has(action)) {
      throw Errors.unsupportedOperation(`The action ${action} is a real EC2 action that amiforge does not implement yet.`);
    }
    throw Errors.invalidAction(action);
  }
  const shapes = ec2Model.operations[action];
  const input = parseQueryInput(shapes.input, fields) as { DryRun?: boolean };
  await authorize?.(action, input);
  if (input.DryRun) throw Errors.dryRun();
  const output = await handler(input as never, ctx, services);
  // JSON keeps the model's PascalCase members; dates become ISO strings.
  if (render === 'json') return JSON.stringify(output ?? {});
  return serializeResponse(action, shapes.output, output, ctx.requestId);
}
