// Readable log lines for a terminal. pino writes one JSON object per line; this turns each into
// `time LEVEL service action status latency account region [error code: message]` for requests,
// and `time LEVEL message key=value ...` for everything else. Machines get the JSON (logger.ts).

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<string, string> = { DEBUG: '\x1b[90m', WARN: '\x1b[33m', ERROR: '\x1b[31m', FATAL: '\x1b[31m' };
const RESET = '\x1b[0m';

/** Fields shown in a request line's own columns (or not worth a column), not repeated as key=value. */
const REQUEST_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'action', 'status', 'latencyMs', 'account', 'region', 'errorCode', 'errorMessage', 'requestId', 'err']);
const OTHER_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'err']);

export interface PrettyOptions {
  /** ANSI colours for the level (a terminal that wants them). */
  color?: boolean;
}

/** One pino JSON line as readable text (with its newline); a line that is not JSON is kept as is. */
export function prettyLogLine(json: string, options: PrettyOptions = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[entry.level as number] ?? String(entry.level ?? '');
  const shownLevel = options.color && COLORS[level] ? `${COLORS[level]}${level.padEnd(5)}${RESET}` : level.padEnd(5);
  const head = `${clock(entry.time)} ${shownLevel}`;
  const body = entry.msg === 'request' || entry.msg === 'request failed' ? requestText(entry) : otherText(entry);
  return `${head} ${body}${errorText(entry.err)}\n`;
}

/** HH:MM:SS.mmmZ of pino's ISO time (UTC, as the JSON has it). */
function clock(time: unknown): string {
  if (typeof time === 'string' && /T\d\d:\d\d:\d\d/.test(time)) return time.slice(time.indexOf('T') + 1);
  return typeof time === 'number' ? new Date(time).toISOString().slice(11) : '';
}

function requestText(e: Record<string, unknown>): string {
  const latency = typeof e.latencyMs === 'number' ? `${e.latencyMs < 10 ? e.latencyMs.toFixed(1) : Math.round(e.latencyMs)} ms` : '';
  const columns = [e.service ?? '-', e.action ?? '-', e.status ?? '-', latency, e.account ?? '-', e.region ?? '-'].map(String);
  const error = e.errorCode ? `  ${e.errorCode}${e.errorMessage ? `: ${e.errorMessage}` : ''}` : '';
  return `${columns.join(' ')}${error}${extras(e, REQUEST_FIELDS)}`;
}

function otherText(e: Record<string, unknown>): string {
  return `${e.msg ?? ''}${extras(e, OTHER_FIELDS)}`;
}

/** The remaining fields as key=value (strings with spaces quoted, objects as JSON). */
function extras(e: Record<string, unknown>, shown: Set<string>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(e)) {
    if (shown.has(key) || value === undefined) continue;
    const text = typeof value === 'string' ? (/[\s"=]/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value);
    parts.push(`${key}=${text}`);
  }
  return parts.length ? `  ${parts.join(' ')}` : '';
}

/** A logged error (pino's serialized `err`): its message, then its stack indented under the line. */
function errorText(err: unknown): string {
  if (!err || typeof err !== 'object') return '';
  const { type, message, stack } = err as { type?: string; message?: string; stack?: string };
  const first = `  ${type ?? 'Error'}: ${message ?? ''}`;
  const frames = typeof stack === 'string' ? stack.split('\n').slice(1).map((l) => `\n    ${l.trim()}`).join('') : '';
  return `${first}${frames}`;
}
