// ExecuteBash and ExecuteBinary: a script, or a binary with its arguments, run as root in the
// guest. Their output is the step's `stdout` for chaining; exit 194 asks for a reboot and a rerun.
import { shq } from './shell.ts';
import { runScript } from './run-script.ts';
import { onlyKeys, str, type ActionModule } from './types.ts';

function commandsOf(inputs: unknown, fail: (what: string) => never): string[] {
  if (!inputs || typeof inputs !== 'object' || Array.isArray(inputs)) return fail('inputs must be a mapping with commands');
  const entry = inputs as Record<string, unknown>;
  onlyKeys(entry, ['commands'], fail);
  const commands = entry.commands;
  if (!Array.isArray(commands) || commands.length === 0) return fail(`input 'commands' must be a non-empty list`);
  return commands.map((c, i) => {
    if (typeof c === 'string') return c;
    if (typeof c === 'number' || typeof c === 'boolean') return String(c);
    return fail(`commands[${i}] must be a string`);
  });
}

export const executeBash: ActionModule = {
  check: (inputs, fail) => void commandsOf(inputs, fail),
  run(inputs, ctx) {
    // The commands become one script, as AWSTOE writes them to a file and runs it with bash.
    const script = commandsOf(inputs, (what) => { throw new Error(what); }).join('\n');
    return runScript(ctx, script, { rebootOn194: true });
  },
};

function binaryOf(inputs: unknown, fail: (what: string) => never): { path: string; args: string[] } {
  if (!inputs || typeof inputs !== 'object' || Array.isArray(inputs)) return fail('inputs must be a mapping with path');
  const entry = inputs as Record<string, unknown>;
  onlyKeys(entry, ['path', 'arguments'], fail);
  const path = str(entry, 'path', fail, true)!;
  const args = entry.arguments ?? [];
  if (!Array.isArray(args)) return fail(`input 'arguments' must be a list of strings`);
  return {
    path,
    args: args.map((a, i) => (typeof a === 'string' || typeof a === 'number' ? String(a) : fail(`arguments[${i}] must be a string`))),
  };
}

export const executeBinary: ActionModule = {
  check: (inputs, fail) => void binaryOf(inputs, fail),
  run(inputs, ctx) {
    const { path, args } = binaryOf(inputs, (what) => { throw new Error(what); });
    return runScript(ctx, `exec ${[path, ...args].map(shq).join(' ')}`, { rebootOn194: true });
  },
};
