// Instance operations: parsing is the codec's, rules are src/domain/instances'; these only map.
import type { Ec2HandlerTable } from './handler.ts';

export const instanceHandlers: Ec2HandlerTable = {
  RunInstances: (input, ctx, s) => s.launcher.run(ctx.caller, input),
  DescribeInstances: (input, ctx, s) => s.instances.describe(ctx.caller, input),
  DescribeInstanceStatus: (input, ctx, s) => s.instances.describeStatus(ctx.caller, input),
  StartInstances: async (input, ctx, s) => ({ StartingInstances: await s.lifecycle.start(ctx.caller, input.InstanceIds) }),
  StopInstances: async (input, ctx, s) => ({ StoppingInstances: await s.lifecycle.stop(ctx.caller, input.InstanceIds, !!input.Force) }),
  RebootInstances: async (input, ctx, s) => {
    await s.lifecycle.reboot(ctx.caller, input.InstanceIds);
    return {};
  },
  TerminateInstances: async (input, ctx, s) => ({ TerminatingInstances: await s.lifecycle.terminate(ctx.caller, input.InstanceIds) }),
  GetConsoleOutput: (input, ctx, s) => s.instances.consoleOutput(ctx.caller, input.InstanceId),
  DescribeInstanceAttribute: (input, ctx, s) => s.instances.describeAttribute(ctx.caller, input),
  ModifyInstanceAttribute: async (input, ctx, s) => {
    await s.instances.modifyAttribute(ctx.caller, input);
    return {};
  },
  CreateImage: async (input, ctx, s) => ({ ImageId: await s.imageCreator.create(ctx.caller, input) }),
  CreateSnapshots: async (input, ctx, s) => {
    const instance = await s.instances.find(ctx.caller, input.InstanceSpecification.InstanceId);
    return { Snapshots: await s.volumeSnapshots.createSnapshots(ctx.caller, input, instance) };
  },
};
