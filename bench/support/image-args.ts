// The options every disk-image bench takes (image size, percent changed, scratch directory,
// --help), parsed together with the bench's own extra options.
import { tmpdir } from 'node:os';
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseBenchArgs } from './args.ts';

const imageOptions = () => ({
  size: { type: 'string', default: '4G' },
  change: { type: 'string', default: '1' },
  dir: { type: 'string', default: tmpdir() },
  help: { type: 'boolean', default: false },
}) as const;

/** The parsed options, or undefined when the bench should not run (--help shown, or bad options). */
export function parseImageBenchArgs<Extra extends ParseArgsOptionsConfig>(args: string[], usage: string, extra: Extra) {
  return parseBenchArgs(args, usage, { ...imageOptions(), ...extra });
}
