// A bench's command-line options: parsed, or the usage shown (on --help, or with exit code 2 on
// options it does not know).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type Values<Options extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: Options }>>['values'];

/** The parsed options, or undefined when the bench should not run (--help shown, or bad options). */
export function parseBenchArgs<Options extends ParseArgsOptionsConfig>(args: string[], usage: string, options: Options): Values<Options> | undefined {
  let values: Values<Options>;
  try {
    ({ values } = parseArgs<{ args: string[]; options: Options }>({ args, options }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exitCode = 2;
    return undefined;
  }
  // The generic Options hide `help` from the checker; a bench that takes --help defines it.
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return values;
}
