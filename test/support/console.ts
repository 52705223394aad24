// A web console session driven with plain fetch, as the browser's code does (web/src/api.ts).
export interface ConsoleSession {
  cookie: string;
  csrfToken: string;
  /** The Set-Cookie header of the sign-in. */
  setCookie: string;
  body: Record<string, any>;
}

export interface ConsoleAnswer { status: number; body: any; headers: Headers }

async function answer(res: Response): Promise<ConsoleAnswer> {
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: res.status, body, headers: res.headers };
}

export async function consoleSignIn(endpoint: string, body: Record<string, string>): Promise<ConsoleAnswer & { session?: ConsoleSession }> {
  const res = await fetch(`${endpoint}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const a = await answer(res);
  const setCookie = res.headers.get('set-cookie') ?? '';
  if (res.status !== 200) return a;
  return { ...a, session: { cookie: setCookie.split(';', 1)[0], csrfToken: a.body.csrfToken, setCookie, body: a.body } };
}

export interface CallOptions { region?: string; csrf?: string | null; headers?: Record<string, string> }

export async function consoleFetch(endpoint: string, s: ConsoleSession | undefined, method: string, path: string, body?: string, o: CallOptions = {}): Promise<ConsoleAnswer> {
  const headers: Record<string, string> = { ...o.headers };
  if (s) headers.cookie = s.cookie;
  if (o.region !== '') headers['x-amiforge-region'] = o.region ?? 'us-east-1';
  const csrf = o.csrf === undefined ? s?.csrfToken : o.csrf;
  if (csrf !== null && csrf !== undefined) headers['x-csrf-token'] = csrf;
  return answer(await fetch(`${endpoint}${path}`, { method, headers, body }));
}

/** An EC2 action through /console/api/ec2 with Query fields; the output as JSON. */
export function consoleEc2(endpoint: string, s: ConsoleSession, fields: Record<string, string>, o: CallOptions = {}): Promise<ConsoleAnswer> {
  return consoleFetch(endpoint, s, 'POST', '/console/api/ec2', new URLSearchParams(fields).toString(),
    { ...o, headers: { 'content-type': 'application/x-www-form-urlencoded', ...o.headers } });
}
