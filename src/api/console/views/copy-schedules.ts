// GET /console/data/copy-schedules: the caller's account's copy schedules with their last run and
// next run. Schedules copy the account's images, so an IAM-style user needs ec2:DescribeImages.
import { copySchedulesOfAccount } from '../../../domain/console/copy-schedules.ts';
import type { ConsoleView } from './index.ts';

export const copySchedulesView: ConsoleView = {
  method: 'GET',
  async handle(app, ctx) {
    await ctx.authorize?.ec2('DescribeImages', {});
    const scheduler = app.copySchedules;
    if (!scheduler) return { schedules: [] };
    // Runs other nodes made are in the shared state, not in this node's memory.
    await scheduler.refresh();
    return { schedules: copySchedulesOfAccount(scheduler.status(), ctx.caller.account) };
  },
};
