// Which metadata database to use: `--database URL`, else AMIFORGE_DATABASE_URL, else SQLite in the
// data directory. The URL carries a password, so everything shown to people (logs, error
// messages) goes through redactDatabaseUrl / redactSecret first.

export const DATABASE_URL_ENV = 'AMIFORGE_DATABASE_URL';

export type DatabaseTarget =
  | { readonly kind: 'sqlite' }
  /** `display` is the URL with its password replaced, the only form that may be printed; `url` is not enumerable (absent from logs and JSON). */
  | { readonly kind: 'postgres'; readonly url: string; readonly display: string };

/** Thrown for a --database value amiforge cannot use; its message never holds the password. */
export class DatabaseUrlError extends Error {}

const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:']);

/** The URL with its password (if any) replaced by `***`; text that is no URL comes back unchanged. */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.password) return url;
  parsed.password = '***';
  return parsed.toString();
}

/** `text` with the database URL's password taken out wherever it appears (driver errors may quote it). */
export function redactSecret(text: string, target: DatabaseTarget): string {
  if (target.kind !== 'postgres') return text;
  let out = text.split(target.url).join(target.display);
  const password = passwordOf(target.url);
  // Drivers may print the password decoded or as written in the URL.
  for (const form of password ? [password, safeDecode(password)] : []) if (form) out = out.split(form).join('***');
  return out;
}

export function parseDatabaseTarget(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const value = (flag ?? env[DATABASE_URL_ENV] ?? '').trim();
  if (!value) return { kind: 'sqlite' };
  const from = flag !== undefined ? '--database' : DATABASE_URL_ENV;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new DatabaseUrlError(`${from} must be a postgres://USER:PASSWORD@HOST[:PORT]/DATABASE URL, got ${redactUnparsable(value)}`);
  }
  if (!POSTGRES_SCHEMES.has(parsed.protocol)) {
    throw new DatabaseUrlError(`${from} must be a postgres:// or postgresql:// URL (leave it out for SQLite in the data directory), got a ${parsed.protocol} one`);
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) throw new DatabaseUrlError(`${from} names no host: ${redactDatabaseUrl(value)}`);
  if (parsed.pathname.length <= 1) throw new DatabaseUrlError(`${from} names no database (postgres://USER:PASSWORD@HOST/DATABASE): ${redactDatabaseUrl(value)}`);
  const target = { kind: 'postgres', display: redactDatabaseUrl(value) } as { kind: 'postgres'; url: string; display: string };
  // Not enumerable: a config object logged or serialised whole shows `display`, never the password.
  Object.defineProperty(target, 'url', { value, enumerable: false });
  return Object.freeze(target);
}

function passwordOf(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return '';
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A value URL cannot parse may still hold `user:password@`: keep only what follows the @. */
function redactUnparsable(value: string): string {
  const at = value.lastIndexOf('@');
  return at < 0 ? value : `***@${value.slice(at + 1)}`;
}
