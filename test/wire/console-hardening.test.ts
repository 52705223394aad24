// The console's answers as an attacker meets them (dev mode): the page's headers (a strict
// Content-Security-Policy, nosniff, no referrer, no framing) and an index.html with no inline
// script; data answers that no browser reads as HTML; asset paths that never leave the bundle;
// session ids the server never issued; one session's CSRF token refused for another; answers that
// name their session; streams ended by sign-out; sign-in bodies of the wrong shape refused in words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../support/server.ts';
import { consoleEc2, consoleFetch, consoleSignIn, type ConsoleAnswer, type ConsoleSession } from '../support/console.ts';
import { sendRaw } from '../support/fuzz-raw-http.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { CATALOGUE_AMI, runOne } from '../support/instances.ts';

const A = '111111111111';
const B = '222222222222';

/** The CSP's directives by name: `script-src` → [`'self'`]. */
function cspDirectives(header: string | null): Map<string, string[]> {
  assert.ok(header, 'a Content-Security-Policy header');
  return new Map(header.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name, values]));
}

function assertDataAnswer(a: ConsoleAnswer, what: string): void {
  assert.match(a.headers.get('content-type') ?? '', /^(application\/(json|x-amz-json-1\.1)|text\/event-stream)/, `${what}: content type`);
  assert.equal(a.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  const csp = cspDirectives(a.headers.get('content-security-policy'));
  assert.deepEqual(csp.get('default-src'), ["'none'"], `${what}: loads nothing`);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${what}: framed by no one`);
  assert.equal(a.headers.get('cross-origin-resource-policy'), 'same-origin', `${what}: not readable cross-site`);
  assert.equal(a.headers.get('cache-control'), 'no-store', `${what}: not cached`);
  assert.equal(a.headers.get('access-control-allow-origin'), null, `${what}: no CORS`);
}

describe('console hardening', () => {
  let server: RunningServer;
  let endpoint: string;
  let a: ConsoleSession;
  let b: ConsoleSession;
  before(async () => {
    server = await startServer();
    endpoint = server.endpoint;
    a = (await consoleSignIn(endpoint, { account: A })).session!;
    b = (await consoleSignIn(endpoint, { account: B })).session!;
  });
  after(() => server?.stop());

  test('the page has a strict CSP, nosniff, no referrer, no framing, and no inline script', async () => {
    const res = await fetch(`${endpoint}/console/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const csp = cspDirectives(res.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('default-src'), ["'self'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"], 'scripts from amiforge only: no inline, no eval, no other origin');
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(csp.get('base-uri'), ["'none'"]);
    for (const [name, values] of csp) {
      for (const v of values) {
        assert.doesNotMatch(v, /unsafe-|^https?:|^\*|^\w+:\/\//, `${name} allows ${v}`);
      }
    }
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attrs, inline] of scripts) {
      assert.match(attrs, /\bsrc="\/console\/assets\/[\w.-]+\.js"/, 'every script is a file of the bundle');
      assert.equal(inline.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /\bon\w+=|javascript:|https?:\/\//i, 'no inline handlers, no other origin');
    // The bundle's own files: their content types, never sniffed.
    for (const [, path] of html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)) {
      const asset = await fetch(`${endpoint}${path}`);
      assert.equal(asset.status, 200, path);
      assert.match(asset.headers.get('content-type') ?? '', /^text\/(javascript|css)/, path);
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  test('every kind of data answer, success or error, is JSON (or events) no browser reads as HTML', async () => {
    const kms = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' };
    const answers: [string, ConsoleAnswer][] = [
      ['session', await consoleFetch(endpoint, a, 'GET', '/console/session')],
      ['no session', await consoleFetch(endpoint, undefined, 'GET', '/console/session')],
      ['sign-in refused', await consoleFetch(endpoint, undefined, 'POST', '/console/session', '{"account":"<b>x</b>"}', { headers: { 'content-type': 'application/json' } })],
      ['ec2', await consoleEc2(endpoint, a, { Action: 'DescribeImages', 'Owner.1': 'self' })],
      ['ec2 error echoing markup', await consoleEc2(endpoint, a, { Action: '<script>alert(1)</script>' })],
      ['csrf refused', await consoleEc2(endpoint, a, { Action: 'DescribeImages' }, { csrf: null })],
      ['kms', await consoleFetch(endpoint, a, 'POST', '/console/api/kms', '{}', { headers: kms })],
      ['kms error', await consoleFetch(endpoint, a, 'POST', '/console/api/kms', '{', { headers: kms })],
      ['rbin', await consoleFetch(endpoint, a, 'POST', '/console/api/rbin/list-rules', '{"ResourceType":"EBS_SNAPSHOT"}', { headers: { 'content-type': 'application/json' } })],
      ['unknown view', await consoleFetch(endpoint, a, 'GET', '/console/data/%3Cimg%20src%3Dx%3E')],
      ['bad region', await consoleFetch(endpoint, a, 'GET', '/console/data/x', undefined, { region: '<svg onload=alert(1)>' })],
      ['stream refused', await consoleFetch(endpoint, a, 'GET', '/console/stream/console?region=us-east-1&instanceId=i-0123456789abcdef0')],
      ['stream', await consoleFetch(endpoint, a, 'GET', '/console/stream/progress?region=us-east-1&ids=%3Cb%3E')],
    ];
    for (const [what, answer] of answers) assertDataAnswer(answer, what);
    assert.equal(answers.find(([w]) => w === 'stream')![1].status, 200);
  });

  test('asset paths never leave the bundle: traversal, encoded traversal and NUL bytes are 404 or the page', async () => {
    const paths = [
      '/console/assets/../../package.json', '/console/assets/..%2f..%2fpackage.json', '/console/assets/%2e%2e/%2e%2e/package.json',
      '/console/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/console/assets/..%5c..%5cpackage.json', '/console/assets/....//....//package.json',
      '/console/assets/x%00.js', '/console/assets/%00', '/console/assets/..', '/console/assets/.', '/console/assets/',
      '/console/assets/%c0%ae%c0%ae/package.json', '/console/../package.json', '/console/..%2fpackage.json', '/console/assets/../index.html',
      '/console/assets//etc/passwd', '/console/assets/..%252f..%252fpackage.json', '/console/assets/main.js%00.css',
    ];
    for (const path of paths) {
      // Raw bytes on the socket: fetch() would resolve the dots before sending.
      const raw = await sendRaw(server.port, { head: `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, body: Buffer.alloc(0) }, 10_000);
      const text = raw.bytes.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      assert.ok(status === 404 || status === 200 || status === 400, `${path}: HTTP ${status}`);
      assert.doesNotMatch(text, /"devDependencies"|"name": "amiforge"|root:x:0/, `${path} served a file outside the bundle`);
      if (status === 200) assert.match(text, /<title>amiforge console<\/title>/, `${path}: only the page itself`);
      assert.match(text.toLowerCase(), /x-content-type-options: nosniff/, `${path}: nosniff`);
    }
  });

  test("paths under /console/ are the console's to answer, whatever the method: never the AWS APIs' errors", async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of ['/console/', '/console/assets/x.js', '/console/assets/..%2f..%2fpackage.json', '/console/images']) {
        const r = await consoleFetch(endpoint, a, method, path, 'Action=DescribeImages');
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.get('allow'), 'GET, HEAD');
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      }
    }
    for (const path of ['/console/api', '/console/data', '/console/stream', '/console/session/x']) {
      const r = await consoleFetch(endpoint, a, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.error.code, 'NotFound', path);
      assertDataAnswer(r, path);
    }
  });

  test('a session id the server never issued is refused; signing in never keeps the id the browser came with, and ends its session', async () => {
    const chosen = 'amiforge_console=attacker-chosen-id-0000000000000000000000000';
    const fixed = await consoleFetch(endpoint, { ...a, cookie: chosen }, 'GET', '/console/session');
    assert.equal(fixed.status, 401);
    assert.equal(fixed.body.error.code, 'SignInRequired');
    const res = await fetch(`${endpoint}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: chosen }, body: JSON.stringify({ account: A }) });
    assert.equal(res.status, 200);
    const issued = (res.headers.get('set-cookie') ?? '').split(';', 1)[0];
    assert.match(issued, /^amiforge_console=[\w-]{40,}$/);
    assert.notEqual(issued, chosen);
    assert.equal((await consoleFetch(endpoint, { ...a, cookie: chosen }, 'GET', '/console/session')).status, 401, 'the chosen id is still nobody');
    // Signing in again ends the session the browser came with: a copy of the old cookie is nobody now.
    const before = (await consoleSignIn(endpoint, { account: A })).session!;
    const again = await fetch(`${endpoint}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: before.cookie }, body: JSON.stringify({ account: B }) });
    assert.equal(again.status, 200);
    assert.equal((await consoleFetch(endpoint, before, 'GET', '/console/session')).status, 401, 'the replaced session has ended');
    assert.equal((await consoleFetch(endpoint, a, 'GET', '/console/session')).status, 200, 'other sessions live on');
    // The hash of an issued id, or an id with bytes added or removed, is nobody either.
    for (const cookie of [`${a.cookie}x`, a.cookie.slice(0, -1), `${a.cookie.toUpperCase()}`, 'amiforge_console=', 'amiforge_console', `x${a.cookie}`]) {
      const r = await consoleFetch(endpoint, { ...a, cookie }, 'GET', '/console/session');
      assert.equal(r.status, 401, cookie);
    }
  });

  test("one session's CSRF token does not pass for another", async () => {
    const r = await consoleEc2(endpoint, a, { Action: 'CreateKeyPair', KeyName: 'csrf-crossed' }, { csrf: b.csrfToken });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'InvalidCsrfToken');
    const out = await consoleFetch(endpoint, a, 'DELETE', '/console/session', undefined, { csrf: b.csrfToken });
    assert.equal(out.status, 403);
    const keys = await consoleEc2(endpoint, a, { Action: 'DescribeKeyPairs' });
    assert.deepEqual(keys.body.KeyPairs, []);
    assert.equal((await consoleFetch(endpoint, a, 'GET', '/console/session')).status, 200);
  });

  test('every answer names the session it was made for, so a page learns another tab signed in as someone else', async () => {
    assert.equal((await consoleEc2(endpoint, a, { Action: 'DescribeImages', 'Owner.1': 'self' })).headers.get('x-amiforge-session'), A);
    assert.equal((await consoleFetch(endpoint, b, 'GET', '/console/data/nope')).headers.get('x-amiforge-session'), B);
    assert.equal((await consoleFetch(endpoint, undefined, 'GET', '/console/session')).headers.get('x-amiforge-session'), null);
  });

  test('signing out ends the streams the session opened, with SignInRequired', async () => {
    const s = (await consoleSignIn(endpoint, { account: A })).session!;
    const instance = await runOne(ec2Client(endpoint, devCredentials(A)), { ImageId: CATALOGUE_AMI });
    const res = await fetch(`${endpoint}/console/stream/console?region=us-east-1&instanceId=${instance.InstanceId}`, { headers: { cookie: s.cookie } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil(/event: state/);
    assert.equal((await consoleFetch(endpoint, s, 'DELETE', '/console/session')).status, 200);
    await readUntil(/event: end/);
    assert.match(text, /event: error\ndata: \{"code":"SignInRequired"/);
    assert.equal((await reader.read()).done, true, 'the stream is closed');
  });

  test('sign-in bodies of the wrong shape are refused in words, never a server error', async () => {
    for (const body of ['{"account":{"toString":1}}', '{"account":["111111111111"]}', '{"account":111111111111}', '{"account":true}', '{"account":"<b>1</b>"}',
      '{"account":"111111111111\\n"}', '{', `{"account":"${'1'.repeat(100_000)}"}`]) {
      const r = await consoleFetch(endpoint, undefined, 'POST', '/console/session', body, { headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 400, body.slice(0, 60));
      assert.equal(r.body.error.code, 'InvalidRequest', body.slice(0, 60));
      assert.equal(r.headers.get('set-cookie'), null);
    }
    const errors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
    assert.deepEqual(errors, []);
  });
});
