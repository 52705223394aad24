// The simulator's guest session: no commands run. Each line of a script is read on its own, in
// order, so fast tests can reach every state of a build through ordinary component documents:
//   exit N     the script ends with exit status N (`exit` alone: 0); 194 from ExecuteBash reboots
//   echo TEXT  TEXT goes to stdout (one pair of surrounding quotes removed)
//   sleep N    waits N seconds (fractions allowed), so step timeouts and cancellation can be tested
//   false      the script ends with exit status 1
//   anything else succeeds and prints nothing (file actions' scripts among them: nothing changes)
// Lines are taken as written: an `exit 3` inside an `if` block ends the script all the same.
// Reboot succeeds at once. A run past its timeout answers exit status 124 with timedOut set.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandResult, GuestAccess, GuestSession, GuestTarget, RunOptions } from '../../ports/guest-session.ts';

const unquote = (s: string): string => (/^(['"]).*\1$/.test(s) ? s.slice(1, -1) : s);

export class SimGuestSession implements GuestSession {
  readonly description: string;
  /** Every script run, in order, for tests that look at what an action sent. */
  readonly scripts: string[] = [];
  reboots = 0;

  constructor(instanceId = 'i-simulated') {
    this.description = `simulator ${instanceId}`;
  }

  async run(script: string, opts: RunOptions): Promise<CommandResult> {
    opts.signal?.throwIfAborted();
    this.scripts.push(script);
    const deadline = Date.now() + opts.timeoutMs;
    let stdout = '';
    for (const raw of script.split('\n')) {
      const line = raw.trim();
      const exit = /^exit(?:\s+(\d+))?\s*;?$/.exec(line);
      if (exit) return { exitCode: Number(exit[1] ?? 0), stdout, stderr: '' };
      if (line === 'false') return { exitCode: 1, stdout, stderr: '' };
      const echo = /^echo(?:\s+(.*))?$/.exec(line);
      if (echo) {
        stdout += `${unquote(echo[1] ?? '')}\n`;
        continue;
      }
      const pause = /^sleep\s+(\d+(?:\.\d+)?)\s*;?$/.exec(line);
      if (pause) {
        const wanted = Number(pause[1]) * 1000;
        const left = deadline - Date.now();
        await sleep(Math.max(0, Math.min(wanted, left)), undefined, { signal: opts.signal });
        if (wanted > left) return { exitCode: 124, stdout, stderr: `timed out after ${opts.timeoutMs} ms\n`, timedOut: true };
      }
    }
    return { exitCode: 0, stdout, stderr: '' };
  }

  async reboot(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    opts.signal?.throwIfAborted();
    this.reboots++;
  }

  async close(): Promise<void> {}
}

/** Sessions to simulated instances: every open succeeds at once. */
export function simGuestAccess(): GuestAccess {
  return {
    async open(target: GuestTarget, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GuestSession> {
      opts.signal?.throwIfAborted();
      return new SimGuestSession(target.instanceId);
    },
  };
}
