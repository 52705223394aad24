// Small disks for the hygiene scan's tests and benchmark: an ext4 filesystem made from a
// directory tree (mkfs.ext4 -d, as scripts/build-base-image.sh does), either planted with what a
// scan must find or clean, placed alone or in an MBR or GPT partition of a larger sparse disk.
// The secrets are made up here, at run time: none is real.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export type PartitionTable = 'mbr' | 'gpt' | 'none';

const MIB = 1024 * 1024;
const SBIN = { PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
const fakePem = (label: string) => `-----BEGIN ${label}-----\n${Buffer.from(`made up for a test: ${label}`).toString('base64')}\n-----END ${label}-----\n`;
/** An access key id of the documented shape, made up (not AWS's documentation example either). */
export const PLANTED_KEY_ID = ['AKIA', 'PLANTEDFORTEST01'].join('');

function put(root: string, path: string, content: string, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content, { mode });
}

const DPKG_STATUS = [
  'Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\n',
  'Package: removed-one\nStatus: deinstall ok config-files\nVersion: 1.0\n',
  'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\nDescription: GNU Bourne Again SHell\n multi-line description\n',
].join('\n');

/** The tree of a Debian-like root filesystem; `planted` adds one of each thing a scan reports. */
export function makeTree(root: string, planted: boolean): void {
  put(root, 'etc/hostname', 'test\n');
  put(root, 'etc/ssh/sshd_config', 'PermitRootLogin no\n');
  put(root, 'etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAAC3Nza test\n');
  put(root, 'var/lib/dpkg/status', DPKG_STATUS);
  put(root, 'etc/ssl/certs/some-ca.pem', fakePem('CERTIFICATE'));
  mkdirSync(join(root, 'tmp'), { recursive: true });
  mkdirSync(join(root, 'root'), { recursive: true });
  mkdirSync(join(root, 'home/alice'), { recursive: true });
  if (!planted) {
    put(root, 'etc/shadow', 'root:*:19723:0:99999:7:::\nalice:!:19723::::::\n', 0o640);
    put(root, 'etc/machine-id', '');
    return;
  }
  put(root, 'etc/shadow', 'root:$6$saltsalt$madeuphashmadeuphash:19723:0:99999:7:::\n', 0o640);
  put(root, 'etc/machine-id', '0123456789abcdef0123456789abcdef\n');
  put(root, 'etc/ssh/ssh_host_ed25519_key', fakePem('OPENSSH PRIVATE KEY'), 0o600);
  put(root, 'etc/environment', 'PATH="/usr/bin:/bin"\nGITHUB_TOKEN=ghp_madeupmadeupmadeup\nHOME_TOKEN=$HOME\n');
  put(root, 'root/.ssh/authorized_keys', 'ssh-ed25519 AAAAC3Nza builder@ci\n', 0o600);
  put(root, 'home/alice/.ssh/authorized_keys', 'ssh-ed25519 AAAAC3Nza alice@laptop\nssh-rsa AAAAB3Nza alice@desk\n', 0o600);
  put(root, 'home/alice/.ssh/id_rsa', fakePem('RSA PRIVATE KEY'), 0o600);
  put(root, 'home/alice/.bash_history', 'ls\nexport AWS_PROFILE=prod\n', 0o600);
  put(root, 'home/alice/.aws/credentials', `[default]\naws_access_key_id = ${PLANTED_KEY_ID}\naws_secret_access_key = ${'x'.repeat(40)}\n`, 0o600);
  put(root, 'home/alice/projects/app/deploy/keys/deep.pem', fakePem('EC PRIVATE KEY'), 0o600);
  put(root, 'var/lib/cloud/instances/i-0123456789abcdef0/boot-finished', '');
  put(root, 'tmp/build.log', 'built\n');
}

/** An ext4 image of `tree` (`sizeMiB` big, sparse). */
export function makeExt4(tree: string, image: string, sizeMiB = 64): void {
  execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, '-L', 'root', image], { env: { ...process.env, ...SBIN } });
}

/**
 * A disk of `diskBytes` whose filesystem is `fsImage`: at offset 0 (`none`), or in the first
 * partition (1 MiB in) of an MBR or GPT table. Only the filesystem's non-zero pieces are written.
 */
export async function makeDisk(fsImage: string, disk: string, diskBytes: number, table: PartitionTable): Promise<void> {
  const src = await open(fsImage, 'r');
  const fsBytes = (await src.stat()).size;
  const dst = await open(disk, 'w');
  await dst.truncate(diskBytes);
  const at = table === 'none' ? 0 : MIB;
  const chunk = Buffer.alloc(MIB);
  for (let off = 0; off < fsBytes; off += MIB) {
    const { bytesRead } = await src.read(chunk, 0, MIB, off);
    if (chunk.subarray(0, bytesRead).some((b) => b !== 0)) await dst.write(chunk, 0, bytesRead, at + off);
  }
  await src.close();
  await dst.close();
  if (table === 'none') return;
  const sectors = fsBytes / 512;
  const script = table === 'mbr'
    ? `label: dos\nstart=2048, size=${sectors}, type=83\n`
    : `label: gpt\nstart=2048, size=${sectors}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n`;
  execFileSync('sfdisk', ['--quiet', disk], { input: script, env: { ...process.env, ...SBIN }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Tree, filesystem and disk in `dir`; returns the disk's path. */
export async function plantedDisk(dir: string, opts: { planted: boolean; table: PartitionTable; diskBytes?: number; name?: string }): Promise<string> {
  const name = opts.name ?? `${opts.planted ? 'planted' : 'clean'}-${opts.table}`;
  const tree = join(dir, `${name}-tree`);
  makeTree(tree, opts.planted);
  const fs = join(dir, `${name}.ext4`);
  makeExt4(tree, fs);
  const disk = join(dir, `${name}.raw`);
  await makeDisk(fs, disk, opts.diskBytes ?? 1024 * MIB, opts.table);
  return disk;
}
