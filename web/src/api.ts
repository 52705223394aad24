// The console's calls to amiforge: the services' own APIs through the session layer
// (/console/api/<service>), console views (/console/data/<name>) and streams (SSE). A 401 from
// any of them shows the sign-in prompt; other errors are thrown as ApiError with EC2's words.

export interface SessionInfo {
  account: string;
  user?: string;
  mode: 'strict' | 'dev';
  csrfToken: string;
  expiresAt: string;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** With SignInRequired: how this server signs in. */
  readonly mode?: 'strict' | 'dev';
  constructor(code: string, message: string, status: number, mode?: 'strict' | 'dev') {
    super(message);
    this.code = code;
    this.status = status;
    this.mode = mode;
  }
}

let csrfToken = '';
let region = localStorage.getItem('amiforge.region') || 'us-east-1';
const signedOutListeners = new Set<(mode?: 'strict' | 'dev') => void>();

export const currentRegion = (): string => region;
export function setRegion(r: string): void {
  region = r;
  localStorage.setItem('amiforge.region', r);
}
export function setCsrfToken(token: string): void {
  csrfToken = token;
}
/** Called when a request finds the session gone (expired, signed out elsewhere, key removed). */
export function onSignedOut(cb: (mode?: 'strict' | 'dev') => void): () => void {
  signedOutListeners.add(cb);
  return () => signedOutListeners.delete(cb);
}

/** `quiet`: a 401 is the caller's to handle (the first look for a session), not a session that ended. */
async function call(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}, quiet = false): Promise<unknown> {
  const res = await fetch(path, {
    method,
    body,
    credentials: 'same-origin',
    headers: { 'x-amiforge-region': region, ...(method === 'GET' ? {} : { 'x-csrf-token': csrfToken }), ...headers },
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {};
  }
  if (res.ok) return data;
  const d = data as { error?: { code?: string; message?: string }; mode?: 'strict' | 'dev'; __type?: string; message?: string; Message?: string };
  const code = d.error?.code ?? d.__type?.split('#').pop() ?? `HTTP ${res.status}`;
  const message = d.error?.message ?? d.message ?? d.Message ?? res.statusText;
  if (res.status === 401 && code === 'SignInRequired' && !quiet) for (const cb of signedOutListeners) cb(d.mode);
  throw new ApiError(code, message, res.status, d.mode);
}

/** Flattens { Owners: ['self'], Filters: [{ Name, Values }] } into EC2 Query fields (Owner.1=self ...). */
export function queryFields(action: string, params: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams({ Action: action, Version: '2016-11-15' });
  const add = (prefix: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) value.forEach((v, i) => add(`${prefix}.${i + 1}`, v));
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${prefix}.${k}`, v);
    else form.append(prefix, String(value));
  };
  for (const [k, v] of Object.entries(params)) add(k, v);
  return form;
}

/** The region header for a call to another region than the selected one (CopyImage goes to its destination). */
const regionHeader = (r?: string): Record<string, string> => (r ? { 'x-amiforge-region': r } : {});

/** An EC2 action, its parameters in Query form names (`Owner`, `Filter`, `ImageId`...); the output as JSON. */
export function ec2<T = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}, inRegion?: string): Promise<T> {
  return call('POST', '/console/api/ec2', queryFields(action, params), { 'content-type': 'application/x-www-form-urlencoded', ...regionHeader(inRegion) }) as Promise<T>;
}

export function kms<T = Record<string, unknown>>(action: string, input: Record<string, unknown> = {}, inRegion?: string): Promise<T> {
  return call('POST', '/console/api/kms', JSON.stringify(input), { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${action}`, ...regionHeader(inRegion) }) as Promise<T>;
}

/** Recycle Bin (rest-json): method and path as in its API, e.g. rbin('GET', '/rules?ResourceType=EBS_SNAPSHOT'). */
export function rbin<T = Record<string, unknown>>(method: string, path: string, input?: unknown): Promise<T> {
  return call(method, `/console/api/rbin${path}`, input === undefined ? undefined : JSON.stringify(input), { 'content-type': 'application/json' }) as Promise<T>;
}

export function imagebuilder<T = Record<string, unknown>>(method: string, path: string, input?: unknown): Promise<T> {
  return call(method, `/console/api/imagebuilder${path}`, input === undefined ? undefined : JSON.stringify(input), { 'content-type': 'application/json' }) as Promise<T>;
}

/** A console view: GET with params in the query, or POST with a JSON body. */
export function view<T = unknown>(name: string, params: Record<string, string> = {}, body?: unknown): Promise<T> {
  const q = new URLSearchParams(params).toString();
  const path = `/console/data/${encodeURIComponent(name)}${q ? `?${q}` : ''}`;
  return (body === undefined ? call('GET', path) : call('POST', path, JSON.stringify(body), { 'content-type': 'application/json' })) as Promise<T>;
}

/**
 * A streaming view (Server-Sent Events); returns a function that closes it. `params.region`
 * overrides the selected region. `onRefused` is called when the server refused the stream (a
 * view this server lacks, a 4xx): the browser does not retry.
 */
export function stream(name: string, params: Record<string, string>, onEvent: (event: string, data: unknown) => void, onRefused?: () => void): () => void {
  const q = new URLSearchParams({ region, ...params });
  const source = new EventSource(`/console/stream/${encodeURIComponent(name)}?${q}`);
  const forward = (event: string) => (e: MessageEvent) => onEvent(event, e.data ? JSON.parse(e.data) : undefined);
  for (const event of ['open', 'data', 'state', 'error', 'end', 'message', 'progress', 'done', 'output', 'moved']) source.addEventListener(event, forward(event) as EventListener);
  source.addEventListener('end', () => source.close());
  source.onerror = () => {
    // EventSource gives no status: ask whether the session is still there (a 401 shows sign-in).
    if (source.readyState !== EventSource.CLOSED) return;
    void call('GET', '/console/session').catch(() => undefined);
    onRefused?.();
  };
  return () => source.close();
}

export async function currentSession(): Promise<SessionInfo> {
  const s = await call('GET', '/console/session', undefined, {}, true) as SessionInfo;
  setCsrfToken(s.csrfToken);
  return s;
}

export async function signIn(body: { accessKeyId: string; secretAccessKey: string } | { account: string }): Promise<SessionInfo> {
  const res = await fetch('/console/session', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({})) as SessionInfo & { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(data.error?.code ?? `HTTP ${res.status}`, data.error?.message ?? res.statusText, res.status);
  setCsrfToken(data.csrfToken);
  return data;
}

export async function signOut(): Promise<void> {
  await call('DELETE', '/console/session').catch(() => undefined);
  setCsrfToken('');
}

/** An error in words for the page. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
