// Watching a real guest from a test: its console through the Hypervisor port, the driver's next
// event for it, and an HTTP GET to a port forwarded to it.
import { get } from 'node:http';
import type { GuestEvent, Hypervisor } from '../../src/ports/hypervisor.ts';

/** The console text once `match` holds (polled); fails with the text after `timeoutMs`. */
export async function consoleWhen(hv: Hypervisor, id: string, match: (text: string) => boolean, what: string, timeoutMs = 300_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await hv.consoleOutput(id))?.text ?? '';
    if (match(text)) return text;
    if (Date.now() > deadline) throw new Error(`no ${what} on the console of ${id} within ${timeoutMs} ms:\n${text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The driver's next event of `kind` for guest `id`. */
export function nextEvent(hv: Hypervisor, kind: GuestEvent['kind'], id: string): Promise<GuestEvent> {
  return new Promise((resolve) => {
    const off = hv.onEvent((e) => {
      if (e.kind === kind && e.instanceId === id) {
        off();
        resolve(e);
      }
    });
  });
}

/** The body of a GET of `url`, with a 20 s bound. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // (busybox httpd passes a CGI's bare-LF headers through: accepted here.)
    const req = get(url, { insecureHTTPParser: true }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
