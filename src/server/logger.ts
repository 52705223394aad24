// Structured logs: one JSON object per line (pino), so they can be searched and shipped as is.
import pino from 'pino';
import type { ServerConfig } from '../config/config.ts';

export type Logger = pino.Logger;

export function createLogger(level: ServerConfig['logLevel']): Logger {
  return pino({ level, base: { service: 'amiforge' }, timestamp: pino.stdTimeFunctions.isoTime });
}
