// The live serial console of an instance: GET /console/stream/console?instanceId=i-...
// Events: `output` {text} (first the text kept so far, then each piece as the guest writes it),
// `state` {state, reason?} (first the current state, then each change), `moved` {nodeId} when a
// start moved the guest to another node (the browser reconnects and is sent there). Ends when
// the instance is terminated or the browser goes. Visible to the instance's account only, and to
// an IAM-style user whose policies allow ec2:GetConsoleOutput on it.
import { ServiceError } from '../../../domain/errors.ts';
import { GUEST_STATES } from '../../../domain/instances/instance-ownership.ts';
import type { InstanceRoute } from '../../../domain/instances/instance-ownership.ts';
import type { InstanceRecord } from '../../../ports/instance-repository.ts';
import type { App } from '../../../server/app.ts';
import type { ConsoleContext } from '../views/index.ts';
import type { ConsoleStream } from './index.ts';
import { requiredParam, streamLife } from './stream-life.ts';

/** How often the instance's record is read for state changes (the console itself is pushed). */
const STATE_POLL_MS = 500;

const stateOf = (r: InstanceRecord) => ({ state: r.state, reason: r.stateReason?.message });

export const consoleStream: ConsoleStream = async (app, ctx, params, sink) => {
  const instanceId = requiredParam(params, 'instanceId');
  await ctx.authorize?.ec2('GetConsoleOutput', { InstanceId: instanceId });
  const life = streamLife(sink);
  const { instance, stop } = await app.ec2.instances.followConsole(ctx.caller, instanceId, (text) => {
    if (!life.closed) sink.send('output', { text });
  });
  try {
    let last = instance;
    sink.send('state', stateOf(last));
    while (!life.closed && last.state !== 'terminated') {
      await life.pause(STATE_POLL_MS);
      if (life.closed) return;
      const r = await app.ec2.instances.find(ctx.caller, instanceId).catch((err) => {
        // Not found any more (expired after termination) ends the stream; a store's hiccup does not.
        if (err instanceof ServiceError && err.status < 500) return null;
        return undefined;
      });
      if (r === null) return;
      if (!r) continue;
      if (r.state !== last.state || r.stateReason?.message !== last.stateReason?.message) sink.send('state', stateOf(r));
      last = r;
      if (r.nodeId && r.nodeId !== app.cluster.nodeId && GUEST_STATES.includes(r.state)) {
        sink.send('moved', { nodeId: r.nodeId });
        return;
      }
    }
  } finally {
    stop();
  }
};

/**
 * Where the console stream is served: the guest's output exists only on the node running it, so
 * a request for a guest on another live node is forwarded there (as GetConsoleOutput is).
 */
export async function consoleStreamRoute(app: App, ctx: ConsoleContext, params: URLSearchParams): Promise<InstanceRoute> {
  const r = await app.ec2.instances.find(ctx.caller, requiredParam(params, 'instanceId'));
  return app.cluster.ownership.route([r]);
}
