// What the console shows of scheduled copies: the operator's schedules, as GET
// /_amiforge/copy-schedules lists them, narrowed to the ones acting as the viewer's account.
// Another account's schedule (its name, its images, its runs) is never part of the answer.
import type { ScheduleStatus } from '../copy-schedules/copy-scheduler.ts';

export function copySchedulesOfAccount(all: readonly ScheduleStatus[], account: string): ScheduleStatus[] {
  return all.filter((s) => s.account === account);
}
