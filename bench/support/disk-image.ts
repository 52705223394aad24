// Disk images for benchmarks, and the machine's limit to compare transfers with: random images
// written to a file (not timed), a percentage of their blocks changed, and the least work any
// transfer of them must do in one process (read each 512 KiB block, SHA-256 it, write it).
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';

export const BLOCK = 512 * 1024;
const SEAL_KEY = randomBytes(32);

/** "4G", "512M", "1.5G", bytes: a size in bytes (K, M, G are powers of 1024). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(s.trim());
  if (!m) throw new Error(`--size: not a size: ${s}`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

/** Writes `size` random bytes to `path` (not timed). */
export async function makeImage(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (let pos = 0; pos < size;) {
      const n = Math.min(buf.length, size - pos);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n, pos);
      pos += n;
    }
  } finally {
    await fh.close();
  }
}

/** Overwrites `percent` % of the blocks (at least one) with new random data; returns how many. */
export async function changeBlocks(path: string, size: number, percent: number): Promise<number> {
  const blocks = Math.ceil(size / BLOCK);
  const count = Math.max(1, Math.round((blocks * percent) / 100));
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(Math.random() * blocks));
  const fh = await open(path, 'r+');
  const buf = Buffer.allocUnsafe(BLOCK);
  try {
    for (const i of chosen) {
      const n = Math.min(BLOCK, size - i * BLOCK);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n, i * BLOCK);
    }
  } finally {
    await fh.close();
  }
  return count;
}

/**
 * The machine's limit: read each block of `src`, SHA-256 it, write it sequentially to `sink`.
 * With `seal`, the limit of an encrypted transfer: the block is also sealed with AES-256-GCM
 * (fresh nonce) and the sealed bytes hashed (their address) and written.
 */
export async function machineLimit(src: string, sink: string, size: number, seal = false): Promise<{ seconds: number; cpu: number }> {
  const [input, output] = await Promise.all([open(src, 'r'), open(sink, 'w')]);
  const buf = Buffer.allocUnsafe(BLOCK);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await input.read(buf, 0, BLOCK, pos);
      createHash('sha256').update(buf.subarray(0, bytesRead)).digest();
      if (seal) {
        const cipher = createCipheriv('aes-256-gcm', SEAL_KEY, randomBytes(12));
        const sealed = Buffer.concat([cipher.update(buf.subarray(0, bytesRead)), cipher.final(), cipher.getAuthTag()]);
        createHash('sha256').update(sealed).digest();
        await output.write(sealed, 0, sealed.length);
      } else await output.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
  } finally {
    await Promise.all([input.close(), output.close()]);
  }
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - started) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Flushes dirty pages so one measurement does not pay for the previous one's writes. */
export const flush = (): void => void spawnSync('sync');
