// The options every disk-image bench takes (image size, percent changed, scratch directory,
// --help), parsed together with the bench's own extra options.
import { tmpdir } from 'node:os';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

const imageOptions = () => ({
  size: { type: 'string', default: '4G' },
  change: { type: 'string', default: '1' },
  dir: { type: 'string', default: tmpdir() },
  help: { type: 'boolean', default: false },
}) as const;

type Config<Extra extends ParseArgsOptionsConfig> = { args: string[]; options: ReturnType<typeof imageOptions> & Extra };
type Values<Extra extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<Config<Extra>>>['values'];

/** The parsed options, or undefined when the bench should not run (--help shown, or bad options). */
export function parseImageBenchArgs<Extra extends ParseArgsOptionsConfig>(args: string[], usage: string, extra: Extra): Values<Extra> | undefined {
  let values: Values<Extra>;
  try {
    ({ values } = parseArgs<Config<Extra>>({ args, options: { ...imageOptions(), ...extra } }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exitCode = 2;
    return undefined;
  }
  // The generic Extra hides `help` from the checker; imageOptions() always defines it.
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return values;
}
