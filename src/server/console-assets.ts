// The web console's files: web/src bundled by esbuild at server start into
// BUILD_DIR/console/<source hash>/ (kept, so a restart with the same sources builds nothing),
// then served from memory. Hashed asset names are cached for good; index.html never is, so a
// new bundle is picked up on the next load.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from './logger.ts';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const ENTRY = join(WEB_DIR, 'src', 'main.tsx');
const CONSOLE_PREFIX = '/console/';
const ASSETS_PREFIX = '/console/assets/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

export interface StaticAnswer { status: number; body: Buffer; contentType: string; headers: Record<string, string> }

export interface ConsoleAssets {
  /** index.html and assets/<hashed name>, by path under the bundle directory. */
  files: Map<string, Buffer>;
  /** The same files gzip-compressed once at load, for browsers that accept it (all do). */
  gzipped: Map<string, Buffer>;
  /** Total bytes of the bundle's files, and compressed. */
  bytes: number;
  gzipBytes: number;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

/** The bundle's name: its sources, the esbuild version and this file (the build options). */
function sourceHash(esbuildVersion: string): string {
  const hash = createHash('sha256').update(esbuildVersion).update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of [...filesUnder(join(WEB_DIR, 'src')), join(WEB_DIR, 'index.html')]) {
    hash.update(relative(WEB_DIR, file)).update('\0').update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

async function build(outDir: string): Promise<void> {
  const esbuild = await import('esbuild');
  // Built beside the final directory and renamed into place: servers starting together (the
  // test suites start dozens) never see half a bundle.
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  const result = await esbuild.build({
    // Paths in the metafile are relative to web/, whatever directory the server started in.
    absWorkingDir: WEB_DIR,
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    outdir: join(tmp, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  // The entry's own script and stylesheet; lazily loaded chunks (a terminal view) are entries
  // of their own to esbuild, and their CSS is folded into the entry's stylesheet as well.
  const [entry, output] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'src/main.tsx') ?? [];
  if (!entry || !output) throw new Error('the console bundle has no entry file');
  const css = output.cssBundle;
  const assetUrl = (file: string) => `${ASSETS_PREFIX}${file.split('/').pop()}`;
  const html = readFileSync(join(WEB_DIR, 'index.html'), 'utf8')
    .replace('<!--styles-->', css ? `<link rel="stylesheet" href="${assetUrl(css)}">` : '')
    .replace('<!--scripts-->', `<script type="module" src="${assetUrl(entry)}"></script>`);
  writeFileSync(join(tmp, 'index.html'), html);
  try {
    renameSync(tmp, outDir);
  } catch (err) {
    // Another server finished the same bundle first: its copy is identical.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(outDir)) throw err;
  }
}

function load(dir: string): ConsoleAssets {
  const files = new Map<string, Buffer>();
  const gzipped = new Map<string, Buffer>();
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of filesUnder(dir)) {
    const name = relative(dir, file).split('\\').join('/');
    const body = readFileSync(file);
    const packed = gzipSync(body, { level: 9 });
    files.set(name, body);
    gzipped.set(name, packed);
    bytes += body.length;
    gzipBytes += packed.length;
  }
  return { files, gzipped, bytes, gzipBytes };
}

/** Builds the bundle unless this source hash was built before, and loads it. */
export async function prepareConsoleAssets(buildDir: string, log: Logger): Promise<ConsoleAssets> {
  const { version } = await import('esbuild');
  const dir = join(buildDir, 'console', sourceHash(version));
  if (!existsSync(join(dir, 'index.html'))) {
    mkdirSync(join(buildDir, 'console'), { recursive: true });
    const started = process.hrtime.bigint();
    await build(dir);
    const assets = load(dir);
    log.info({ dir, bytes: assets.bytes, gzipBytes: assets.gzipBytes, buildMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6) }, 'console bundle built');
    return assets;
  }
  const assets = load(dir);
  log.info({ dir, bytes: assets.bytes, gzipBytes: assets.gzipBytes }, 'console bundle loaded');
  return assets;
}

/** Whether a path is the console's static part (not its API, data or stream routes). */
export function isConsoleStaticPath(path: string): boolean {
  return path === '/console' || (path.startsWith(CONSOLE_PREFIX) && !/^\/console\/(api|data|stream|session)(\/|$)/.test(path));
}

/** The answer for a static console path: an asset, or index.html for any other page path. */
export function serveConsoleAsset(assets: ConsoleAssets, path: string, acceptsGzip = false): StaticAnswer {
  const answer = serveUncompressed(assets, path);
  const file = answer.status === 200 ? (path.startsWith(ASSETS_PREFIX) ? `assets/${path.slice(ASSETS_PREFIX.length)}` : 'index.html') : undefined;
  const packed = file && acceptsGzip ? assets.gzipped.get(file) : undefined;
  answer.headers.vary = 'accept-encoding';
  // Every answer, the 404's words included, is only ever what its content type says.
  answer.headers['x-content-type-options'] = 'nosniff';
  if (!packed) return answer;
  return { ...answer, body: packed, headers: { ...answer.headers, 'content-encoding': 'gzip' } };
}

function serveUncompressed(assets: ConsoleAssets, path: string): StaticAnswer {
  if (path === '/console') {
    return { status: 301, body: Buffer.alloc(0), contentType: 'text/plain', headers: { location: CONSOLE_PREFIX } };
  }
  if (path.startsWith(ASSETS_PREFIX)) {
    const name = path.slice(ASSETS_PREFIX.length);
    const body = /^[\w.-]+$/.test(name) ? assets.files.get(`assets/${name}`) : undefined;
    if (!body) return { status: 404, body: Buffer.from('Not found'), contentType: 'text/plain; charset=utf-8', headers: { 'cache-control': 'no-store' } };
    return {
      status: 200, body, contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      headers: { 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' },
    };
  }
  return {
    status: 200, body: assets.files.get('index.html')!, contentType: CONTENT_TYPES['.html'],
    headers: {
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      // Everything is served from here: no inline script, nothing from elsewhere.
      'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    },
  };
}

/** The bundle per build directory, built once per process (servers in one process share it). */
const bundles = new Map<string, Promise<ConsoleAssets | Error>>();

/** Starts building or loading the bundle at server start; a failure is logged and answered 503 later. */
export function startConsoleAssets(buildDir: string, log: Logger): Promise<ConsoleAssets | Error> {
  let p = bundles.get(buildDir);
  if (!p) {
    p = prepareConsoleAssets(buildDir, log).catch((err: Error) => {
      log.error({ err }, 'console bundle failed to build');
      return err;
    });
    bundles.set(buildDir, p);
  }
  return p;
}

/**
 * A browser opening the server's address: an unsigned GET of `/` that accepts HTML (AWS clients
 * sign, and never ask for HTML). Anything else at `/` is answered by the APIs as before.
 */
export function isBrowserLanding(method: string, path: string, rawQuery: string, headers: IncomingHttpHeaders): boolean {
  return method === 'GET' && path === '/' && !headers.authorization && !/(^|&)X-Amz-/i.test(rawQuery)
    && String(headers.accept ?? '').includes('text/html');
}

/** `/` from a browser, /console and /console/*'s files; undefined for any other request. */
export async function serveConsoleStatic(
  /** Read only for a console path: requests to the APIs never need it. */
  buildDir: () => string, log: Logger, method: string, path: string, rawQuery: string, headers: IncomingHttpHeaders,
): Promise<StaticAnswer | undefined> {
  if (isBrowserLanding(method, path, rawQuery, headers)) {
    return { status: 302, body: Buffer.alloc(0), contentType: 'text/plain', headers: { location: CONSOLE_PREFIX, 'cache-control': 'no-store' } };
  }
  if (!isConsoleStaticPath(path)) return undefined;
  // No AWS API lives under /console/: other methods on the console's files are the console's to refuse.
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, body: Buffer.from('The console\'s files answer GET and HEAD only.'), contentType: 'text/plain; charset=utf-8', headers: { allow: 'GET, HEAD', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } };
  }
  const assets = await startConsoleAssets(buildDir(), log);
  if (assets instanceof Error) {
    return { status: 503, body: Buffer.from('The console could not be built; see the server log.'), contentType: 'text/plain; charset=utf-8', headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } };
  }
  return serveConsoleAsset(assets, path, /\bgzip\b/.test(String(headers['accept-encoding'] ?? '')));
}
