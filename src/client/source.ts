// The disk image to upload: a raw file as it is, or another format converted to a temporary
// raw (sparse) file by qemu-img first. The format is told by the file's first bytes.
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { SnapshotClientError } from './errors.ts';

export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vhdx' | 'vdi';

/** The format of the image in `head` (the file's first 512 bytes or fewer). */
export function detectFormat(head: Buffer): ImageFormat {
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head.length >= 4 && head.readUInt32BE(0) === 0x514649fb) return 'qcow2'; // 'QFI\xfb'
  if (ascii(0, 4) === 'KDMV') return 'vmdk'; // sparse extent
  if (ascii(0, 21) === '# Disk DescriptorFile') return 'vmdk'; // text descriptor
  if (ascii(0, 8) === 'vhdxfile') return 'vhdx';
  if (head.length >= 0x44 && head.readUInt32LE(0x40) === 0xbeda107f) return 'vdi';
  return 'raw';
}

export interface Source {
  /** The raw image to read blocks from (the file itself, or the converted copy). */
  path: string;
  size: number;
  format: ImageFormat;
  /** Size and modification time of the file given, to tell whether a journal still applies. */
  original: { size: number; mtimeMs: number };
  /** Removes the converted copy, if any. */
  cleanup(): Promise<void>;
}

export interface SourceOptions {
  /** Where to put the converted raw copy (default: the OS temp dir, $TMPDIR). */
  tempDir?: string;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
}

export async function openSource(file: string, options: SourceOptions = {}): Promise<Source> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    throw SnapshotClientError.fromFs(err, file);
  }
  if (!st.isFile()) throw new SnapshotClientError(`${file} is not a regular file; give the path of a disk image file`);
  const head = Buffer.alloc(512);
  const fh = await open(file, 'r');
  let n;
  try {
    ({ bytesRead: n } = await fh.read(head, 0, head.length, 0));
  } finally {
    await fh.close();
  }
  const format = detectFormat(head.subarray(0, n));
  const original = { size: st.size, mtimeMs: st.mtimeMs };
  if (format === 'raw') return { path: file, size: st.size, format, original, cleanup: async () => {} };

  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'amiforge-convert-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const raw = join(dir, `${basename(file)}.raw`);
  try {
    options.onNotice?.(`converting ${format} image to raw with qemu-img (temporary file in ${dir})`);
    await qemuImgConvert(file, format, raw, options.signal);
    return { path: raw, size: (await stat(raw)).size, format, original, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** `qemu-img convert -O raw` (which writes a sparse file: runs of zeros become holes). */
function qemuImgConvert(file: string, format: ImageFormat, out: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-img', ['convert', '-f', format, '-O', 'raw', file, out], { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new SnapshotClientError(`${file} is a ${format} image and converting it needs qemu-img, which is not installed; `
          + 'install it (Debian/Ubuntu: apt-get install qemu-utils) or convert the image to raw yourself'));
      } else reject(err);
    });
    child.on('exit', (code, sig) => {
      if (code === 0) resolve();
      else reject(new SnapshotClientError(`qemu-img could not convert ${file} (${sig ?? `exit code ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}
