// sshGuestAccess without a guest: what it needs before trying, and a guest that never answers
// (nothing listens on the port) ends the retries at the timeout with a message naming it. The
// sessions themselves are exercised in a real guest by test/qemu/imagebuilder-components.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { sshGuestAccess } from './ssh-guest-access.ts';

const target = { account: '111111111111', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' };

test('open needs an address and a private key', async () => {
  await assert.rejects(sshGuestAccess().open({ ...target, privateKey: 'k' }, { timeoutMs: 1000 }), /i-0123456789abcdef0 has no address to reach it at/);
  await assert.rejects(sshGuestAccess().open({ ...target, address: '127.0.0.1' }, { timeoutMs: 1000 }), /no private key to reach i-0123456789abcdef0 with/);
});

test('a guest that never answers fails open at the timeout, naming the address', async () => {
  // A port that was free a moment ago: connections are refused, as while a guest boots.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
  await assert.rejects(
    sshGuestAccess({ retryDelayMs: 100, connectTimeoutSeconds: 1 }).open({ ...target, address: `127.0.0.1:${port}`, privateKey: 'not a key' }, { timeoutMs: 1500 }),
    new RegExp(`i-0123456789abcdef0 at 127.0.0.1:${port} did not accept SSH within 2 s \\(admin: .+\\)`),
  );
});

test('open stops when its signal aborts', async () => {
  const controller = new AbortController();
  const opening = sshGuestAccess({ retryDelayMs: 60_000 }).open({ ...target, address: '127.0.0.1:1', privateKey: 'k' }, { timeoutMs: 120_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(opening, { name: 'AbortError' });
});
