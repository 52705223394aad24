// Key pairs through @aws-sdk/client-ec2, checked with OpenSSH's own ssh-keygen: CreateKeyPair
// returns private keys ssh can use, ImportKeyPair takes what ssh-keygen makes (with EC2's
// fingerprints), DescribeKeyPairs and DeleteKeyPair, and RunInstances serving the key to the guest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyPairCommand, DeleteKeyPairCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, ImportKeyPairCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, CLOUD_INIT_DONE, runOne, waitForConsole, waitRunning } from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;
let dir: string;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
  ec2 = ec2Client(server.endpoint, devCredentials('555555555555'));
  dir = mkdtempSync(join(tmpdir(), 'amiforge-keys-'));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sshKeygen = (...args: string[]) => execFileSync('ssh-keygen', args, { encoding: 'utf8' }).trim();

/** The public key ssh-keygen derives from a private key file: proof ssh can use the key. */
function derivePublic(privateKey: string, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, privateKey, { mode: 0o600 });
  return sshKeygen('-y', '-f', file);
}

describe('key pairs', () => {
  test('CreateKeyPair: RSA (PKCS#1 PEM) and ED25519 (OpenSSH) private keys that ssh-keygen reads', async () => {
    const rsa = await ec2.send(new CreateKeyPairCommand({ KeyName: 'deploy-rsa', TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'team', Value: 'ops' }] }] }));
    assert.match(rsa.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(rsa.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/, 'SHA-1 of the private key, as EC2 fingerprints keys it creates');
    assert.match(rsa.KeyPairId!, /^key-[0-9a-f]{17}$/);
    assert.deepEqual(rsa.Tags, [{ Key: 'team', Value: 'ops' }]);
    const ed = await ec2.send(new CreateKeyPairCommand({ KeyName: 'deploy-ed', KeyType: 'ed25519' }));
    assert.match(ed.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    const edPublic = derivePublic(ed.KeyMaterial!, 'ed');
    const fingerprint = sshKeygen('-l', '-E', 'sha256', '-f', join(dir, 'ed')).split(' ')[1].replace(/^SHA256:/, '');
    assert.equal(ed.KeyFingerprint!.replace(/=+$/, ''), fingerprint);

    const described = await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['deploy-ed', 'deploy-rsa'], IncludePublicKey: true }));
    const byName = new Map(described.KeyPairs!.map((k) => [k.KeyName, k]));
    assert.equal(byName.get('deploy-ed')!.KeyType, 'ed25519');
    assert.equal(byName.get('deploy-rsa')!.KeyType, 'rsa');
    assert.equal(byName.get('deploy-ed')!.PublicKey!.split(' ').slice(0, 2).join(' '), edPublic.split(' ').slice(0, 2).join(' '));
    assert.equal(byName.get('deploy-rsa')!.PublicKey!.split(' ').slice(0, 2).join(' '), derivePublic(rsa.KeyMaterial!, 'rsa').split(' ').slice(0, 2).join(' '));
    assert.ok(byName.get('deploy-rsa')!.CreateTime instanceof Date);
    await expectAwsError(ec2.send(new CreateKeyPairCommand({ KeyName: 'deploy-rsa' })), { name: 'InvalidKeyPair.Duplicate', message: "The keypair 'deploy-rsa' already exists." });
  });

  test('ImportKeyPair takes ssh-keygen keys; RSA fingerprints are the MD5 of RFC 4716', async () => {
    for (const type of ['rsa', 'ed25519']) {
      const file = join(dir, `import-${type}`);
      sshKeygen('-t', type, '-N', '', '-q', '-C', 'me@laptop', '-f', file);
      const material = readFileSync(`${file}.pub`);
      const out = await ec2.send(new ImportKeyPairCommand({ KeyName: `imported-${type}`, PublicKeyMaterial: material }));
      const expected = type === 'rsa'
        ? sshKeygen('-l', '-E', 'md5', '-f', `${file}.pub`).split(' ')[1].replace(/^MD5:/, '')
        : sshKeygen('-l', '-E', 'sha256', '-f', `${file}.pub`).split(' ')[1].replace(/^SHA256:/, '');
      assert.equal(out.KeyFingerprint!.replace(/=+$/, ''), expected);
    }
    await expectAwsError(ec2.send(new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: Buffer.from('ssh-dss AAAAB3NzaC1kc3M= x') })), { name: 'InvalidKey.Format' });
    await expectAwsError(ec2.send(new ImportKeyPairCommand({ KeyName: 'imported-rsa', PublicKeyMaterial: readFileSync(join(dir, 'import-rsa.pub')) })), { name: 'InvalidKeyPair.Duplicate' });
  });

  test('DescribeKeyPairs by id and filter; unknown names are InvalidKeyPair.NotFound; DeleteKeyPair is idempotent', async () => {
    const all = (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!;
    assert.deepEqual(all.map((k) => k.KeyName), ['deploy-ed', 'deploy-rsa', 'imported-ed25519', 'imported-rsa']);
    const one = all[1];
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: [one.KeyPairId!] }))).KeyPairs!.map((k) => k.KeyName), ['deploy-rsa']);
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['imported-*'] }] }))).KeyPairs!.length, 2);
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'fingerprint', Values: [one.KeyFingerprint!] }] }))).KeyPairs!.map((k) => k.KeyName), ['deploy-rsa']);
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag:team', Values: ['ops'] }] }))).KeyPairs!.map((k) => k.KeyName), ['deploy-rsa']);
    await expectAwsError(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['nope'] })), { name: 'InvalidKeyPair.NotFound', message: "The key pair 'nope' does not exist" });
    const del = await ec2.send(new DeleteKeyPairCommand({ KeyName: 'imported-ed25519' }));
    assert.equal(del.Return, true);
    assert.equal((await ec2.send(new DeleteKeyPairCommand({ KeyName: 'imported-ed25519' }))).Return, true, 'deleting again succeeds');
    await ec2.send(new DeleteKeyPairCommand({ KeyPairId: all[3].KeyPairId }));
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!.map((k) => k.KeyName), ['deploy-ed', 'deploy-rsa']);
  });

  test('an instance launched with a key reports it, and its guest is given the public key', async () => {
    const i = await runOne(ec2, { ImageId: CATALOGUE_AMI, KeyName: 'deploy-ed' });
    await waitRunning(ec2, [i.InstanceId!]);
    assert.equal((await ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0].KeyName, 'deploy-ed');
    assert.match(await waitForConsole(ec2, i.InstanceId!, CLOUD_INIT_DONE), /authorized key for ec2-user: ssh-ed25519 \(deploy-ed\)/);
    // Deleting the key pair later does not change a running instance.
    await ec2.send(new DeleteKeyPairCommand({ KeyName: 'deploy-ed' }));
    assert.equal((await ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0].KeyName, 'deploy-ed');
  });
});
