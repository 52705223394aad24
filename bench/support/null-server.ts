// The ceiling for a benchmark's request rate: a node:http server in its own process that reads
// each request's body and answers 200 with a fixed body, doing nothing else. Driven by the same
// client (same signing, same keep-alive sockets) as the server measured, its rate is the most
// that client and this machine allow for requests and answers of that size.
//
// Run as a script (`node null-server.ts`), it reads the body to answer from its standard input
// (a megabyte answer is too long for an environment variable), listens on a free loopback port
// and prints the port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { BenchServer } from './servers.ts';

const SELF = fileURLToPath(import.meta.url);

/** Starts the do-nothing server answering `body` (e.g. a real answer of the server measured). */
export async function startNullServer(body: string): Promise<BenchServer> {
  const child = spawn(process.execPath, [SELF], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(body);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`null server did not start in 10 s: ${stderr}`)), 10_000);
    child.stdout!.once('data', (d) => {
      clearTimeout(timer);
      resolve(Number(String(d).trim()));
    });
    child.once('exit', (code) => reject(new Error(`null server exited with ${code}: ${stderr}`)));
  });
  return {
    name: 'null server',
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const server = createServer((req, res) => {
    // The body is read, as any server must, and dropped.
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[1] === SELF) await serve();
