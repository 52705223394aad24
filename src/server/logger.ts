// Logs: one JSON object per line (pino), so they can be searched and shipped as is; on a terminal,
// readable lines instead (log-pretty.ts), unless --log-format says otherwise.
import pino from 'pino';
import type { ServerConfig } from '../config/config.ts';
import { prettyLogLine } from './log-pretty.ts';

export type Logger = pino.Logger;

/** `auto`: readable lines when stdout is a terminal, JSON lines otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export function createLogger(level: ServerConfig['logLevel'], format: LogFormat = 'json', out: NodeJS.WriteStream = process.stdout): Logger {
  const options = { level, base: { service: 'amiforge' }, timestamp: pino.stdTimeFunctions.isoTime };
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY);
  // The process's own stdout keeps pino's default destination (sonic-boom on fd 1).
  if (!pretty) return out === process.stdout ? pino(options) : pino(options, out);
  const color = !!out.isTTY && !process.env.NO_COLOR;
  // pino hands a destination each line as JSON text; a terminal's writes are synchronous anyway.
  return pino(options, { write: (line: string) => out.write(prettyLogLine(line, { color })) });
}
