// `amiforge image scan` and `amiforge image packages`, run as the real CLI against a real server
// in strict mode: planted and clean disks imported as AMIs (`amiforge image import`), scanned
// (table, --json, exit statuses), an encrypted copy scanned through its KMS key, another
// account kept out, and the catalogue's Debian 12 image scanned clean with its packages listed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyImageCommand, DescribeImagesCommand, ModifyImageAttributeCommand, waitUntilImageAvailable, type EC2Client } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { catalog } from '../support/catalog.ts';
import { PLANTED_KEY_ID, plantedDisk } from '../support/planted-disk.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/amiforge');
const MIB = 1024 * 1024;

let server: RunningServer;
let dir: string;
let ec2: EC2Client;
let planted: string;
let clean: string;

interface Run { code: number; stdout: string; stderr: string }

const policy = (Action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource: '*' }] });
const user = (name: string, n: number, action: string): TestUser =>
  ({ name, accessKeyId: `AKIAHYGIENE${String(n).padStart(9, '0')}`, secretAccessKey: `${name}-secret-000000000000000000000000`, policies: [policy(action)] });
const READER = user('reader', 1, 'ec2:Describe*');
const LAUNCHER = user('launcher', 2, 'ec2:RunInstances');
const ALICE_WITH_USERS: TestAccount = { ...ALICE, users: [READER, LAUNCHER] };

function amiforge(args: string[], account: Pick<TestAccount, 'accessKeyId' | 'secretAccessKey'> = ALICE): Promise<Run> {
  return new Promise((resolve) => {
    execFile(CLI, args, {
      maxBuffer: 16 * MIB,
      env: {
        ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: account.accessKeyId, AWS_SECRET_ACCESS_KEY: account.secretAccessKey,
        AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AMIFORGE_CACHE_DIR: join(dir, 'cache'), TMPDIR: join(dir, 'tmp'),
      },
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function importDisk(disk: string, name: string): Promise<string> {
  const r = await amiforge(['image', 'import', disk, '--name', name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hygiene-cli-'));
  mkdirSync(join(dir, 'tmp'));
  server = await startServer({ accounts: [ALICE_WITH_USERS, BOB] });
  ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
  planted = await importDisk(await plantedDisk(dir, { planted: true, table: 'mbr', diskBytes: 1024 * MIB }), 'planted');
  clean = await importDisk(await plantedDisk(dir, { planted: false, table: 'gpt', diskBytes: 1024 * MIB }), 'clean');
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HIGH_PLANTED = [
  'authorized-keys /root/.ssh/authorized_keys', 'cloud-credentials /home/alice/.aws/credentials', 'private-key /home/alice/.ssh/id_rsa',
  'private-key /home/alice/projects/app/deploy/keys/deep.pem', 'root-password /etc/shadow', 'secret-in-environment /etc/environment',
  'ssh-host-key /etc/ssh/ssh_host_ed25519_key',
];

test('a planted image: a table of findings, a summary, exit status 1', async () => {
  const r = await amiforge(['image', 'scan', planted]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^SEVERITY\s+KIND\s+PATH\s+DETAIL$/);
  assert.match(lines[1], /^HIGH\s+/, 'HIGH findings first');
  assert.match(r.stdout, /MEDIUM\s+shell-history\s+\/home\/alice\/\.bash_history/);
  assert.match(r.stdout, /LOW\s+machine-id\s+\/etc\/machine-id/);
  assert.match(lines.at(-1)!, new RegExp(`^${planted}: NOT CLEAN \\(7 HIGH, 2 MEDIUM, 3 LOW\\); read \\d+ files, .* of the snapshot in [\\d.]+ s$`));
  assert.ok(!r.stdout.includes(PLANTED_KEY_ID), 'the secret itself is never printed');
});

test('--json: the report with its costs; the same exit status', async () => {
  const r = await amiforge(['image', 'scan', planted, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.imageId, planted);
  assert.deepEqual(report.findings.filter((f: { severity: string }) => f.severity === 'HIGH').map((f: { kind: string; path: string }) => `${f.kind} ${f.path}`).sort(), HIGH_PLANTED);
  assert.ok(report.bytesRead > 0 && report.filesRead > 5 && report.durationMs >= 0);
  assert.ok(report.bytesRead < 64 * MIB, `read ${report.bytesRead} bytes of a 1 GiB disk`);
});

test('a clean image: no findings, exit status 0', async () => {
  const r = await amiforge(['image', 'scan', clean]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${clean}: clean \\(no findings\\)`));
  const json = await amiforge(['image', 'scan', clean, '--json']);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout).findings, []);
});

test('packages: from the dpkg database', async () => {
  const r = await amiforge(['image', 'packages', clean, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [{ packageName: 'bash', packageVersion: '5.2.15-2+b7' }, { packageName: 'openssh-server', packageVersion: '1:9.2p1-2+deb12u3' }]);
});

test('an encrypted copy is scanned through its KMS key, with the same findings', async () => {
  const { ImageId } = await ec2.send(new CopyImageCommand({ SourceImageId: planted, SourceRegion: 'us-east-1', Name: 'planted-encrypted', Encrypted: true }));
  await waitUntilImageAvailable({ client: ec2, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { ImageIds: [ImageId!] });
  const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
  assert.equal(image.BlockDeviceMappings![0].Ebs!.Encrypted, true);
  const r = await amiforge(['image', 'scan', ImageId!, '--json']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(JSON.parse(r.stdout).findings.filter((f: { severity: string }) => f.severity === 'HIGH').length, HIGH_PLANTED.length);
});

test('another account cannot scan a private image; errors exit 2', async () => {
  const bob = await amiforge(['image', 'scan', planted], BOB);
  assert.equal(bob.code, 2);
  assert.match(bob.stderr, /InvalidAMIID\.NotFound/);
  const missing = await amiforge(['image', 'scan', 'ami-0123456789abcdef0']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^amiforge image scan: InvalidAMIID\.NotFound/);
  const bare = await amiforge(['image', 'scan', catalog.find((i) => i.name.startsWith('al2023') && i.name.endsWith('x86_64'))!.regions['us-east-1']]);
  assert.equal(bare.code, 2, 'a disk with no filesystem');
  assert.match(bare.stderr, /No ext2\/3\/4 root filesystem/);
});

test('an IAM-style user scans with ec2:DescribeImages, not without; a shared image is scanned by the account it is shared with', async () => {
  assert.equal((await amiforge(['image', 'scan', clean], READER)).code, 0);
  const denied = await amiforge(['image', 'scan', clean], LAUNCHER);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /UnauthorizedOperation/);
  await ec2.send(new ModifyImageAttributeCommand({ ImageId: clean, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
  assert.equal((await amiforge(['image', 'scan', clean], BOB)).code, 0);
});

test('the catalogue\'s Debian 12 image scans with no HIGH finding and lists its packages', async () => {
  const debian = catalog.find((i) => i.name.startsWith('debian-12-amd64'))!.regions['us-east-1'];
  const r = await amiforge(['image', 'scan', debian, '--json']);
  assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
  assert.deepEqual(JSON.parse(r.stdout).findings.filter((f: { severity: string }) => f.severity === 'HIGH'), []);
  const p = await amiforge(['image', 'packages', debian]);
  assert.equal(p.code, 0, p.stderr);
  const names = p.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
  for (const name of ['openssh-server', 'linux-image-cloud-amd64', 'cloud-init']) assert.ok(names.includes(name), name);
});

test('--help explains the checks and the exit statuses', async () => {
  const r = await amiforge(['image', 'scan', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Exit status: 0 no HIGH finding, 1 HIGH findings, 2 the scan could not run/);
  assert.match(r.stdout, /--json/);
});
