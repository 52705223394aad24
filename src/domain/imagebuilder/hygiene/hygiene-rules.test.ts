import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorizedKeysFinding, contentFindings, dedupe, environmentFindings, isSshHostPrivateKey, machineIdFinding, maskKeyId,
  shadowFindings, shellHistoryFinding,
} from './hygiene-rules.ts';

const b = (s: string) => Buffer.from(s);
const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
const keyId = ['AKIA', 'ABCDEFGHIJKLMNOP'].join('');

test('SSH host keys: the private ones only', () => {
  for (const n of ['ssh_host_rsa_key', 'ssh_host_ed25519_key', 'ssh_host_ecdsa_key', 'ssh_host_key']) assert.ok(isSshHostPrivateKey(n), n);
  for (const n of ['ssh_host_rsa_key.pub', 'sshd_config', 'ssh_host_rsa_key-cert.pub']) assert.ok(!isSshHostPrivateKey(n), n);
});

test('authorized_keys: root HIGH, a user MEDIUM, empty or comments only nothing', () => {
  assert.equal(authorizedKeysFinding('/root/.ssh/authorized_keys', b('ssh-ed25519 AAA a\n'), true)?.severity, 'HIGH');
  const user = authorizedKeysFinding('/home/a/.ssh/authorized_keys', b('ssh-ed25519 AAA a\nssh-rsa BBB b\n'), false);
  assert.equal(user?.severity, 'MEDIUM');
  assert.match(user!.detail, /^2 authorized keys/);
  assert.equal(authorizedKeysFinding('/root/.ssh/authorized_keys', b('# none\n\n'), true), undefined);
});

test('shell history: MEDIUM when not empty', () => {
  assert.equal(shellHistoryFinding('/root/.bash_history', 10)?.severity, 'MEDIUM');
  assert.equal(shellHistoryFinding('/root/.bash_history', 0), undefined);
});

test('shadow: a root password or an empty one is HIGH; locked is clean', () => {
  assert.equal(shadowFindings('/etc/shadow', b('root:$6$s$h:1:0:99999:7:::\n'))[0]?.severity, 'HIGH');
  assert.match(shadowFindings('/etc/shadow', b('root::1:0:99999:7:::\n'))[0].detail, /empty password/);
  for (const locked of ['*', '!', '!*', '!$6$s$h']) assert.deepEqual(shadowFindings('/etc/shadow', b(`root:${locked}:1::::::\n`)), [], locked);
  assert.deepEqual(shadowFindings('/etc/shadow', b('alice:$6$s$h:1::::::\n')), [], 'only root is checked');
});

test('machine-id: LOW when kept; empty or "uninitialized" is clean', () => {
  assert.equal(machineIdFinding('/etc/machine-id', b('0123456789abcdef0123456789abcdef\n'))?.severity, 'LOW');
  assert.equal(machineIdFinding('/etc/machine-id', b('')), undefined);
  assert.equal(machineIdFinding('/etc/machine-id', b('uninitialized\n')), undefined);
});

test('private keys in contents: PEM and OpenSSH, certificates and public keys are not', () => {
  for (const label of ['RSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
    const [f] = contentFindings('/home/a/key', b(`junk\n${pem(label)}`));
    assert.equal(f?.kind, 'private-key', label);
    assert.equal(f.severity, 'HIGH');
  }
  assert.match(contentFindings('/x', b(pem('ENCRYPTED PRIVATE KEY')))[0].detail, /passphrase-protected/);
  assert.deepEqual(contentFindings('/etc/ssl/certs/ca.pem', b(pem('CERTIFICATE'))), []);
  assert.deepEqual(contentFindings('/home/a/.ssh/id_rsa.pub', b('ssh-rsa AAAA a@b\n')), []);
});

test('AWS access keys: the id masked in the detail, the secret noticed, never printed', () => {
  const [f] = contentFindings('/home/a/notes.txt', b(`aws_access_key_id=${keyId}\naws_secret_access_key=${'k'.repeat(40)}\n`));
  assert.equal(f.kind, 'cloud-credentials');
  assert.equal(f.severity, 'HIGH');
  assert.equal(f.detail, `AWS access key id ${maskKeyId(keyId)} with a secret access key`);
  assert.ok(!f.detail.includes(keyId) && !f.detail.includes('k'.repeat(40)));
  assert.doesNotMatch(contentFindings('/x', b(`ASIA${'Q'.repeat(16)}`))[0].detail, /secret/);
});

test('credential files by name: HIGH even without a key id in them', () => {
  assert.equal(contentFindings('/root/.aws/credentials', b('[default]\nrole_arn = x\n'))[0]?.kind, 'cloud-credentials');
  assert.equal(contentFindings('/home/a/.git-credentials', b('https://u:t@example.com\n'))[0]?.severity, 'HIGH');
  assert.deepEqual(contentFindings('/root/.aws/config', b('[default]\nregion = us-east-1\n')), []);
});

test('environment files: secret-looking names with literal values', () => {
  const [f] = environmentFindings('/etc/environment', 'PATH=/bin\nexport API_KEY="abc"\nDB_PASSWORD=\nGH_TOKEN=$TOKEN\nX_SECRET=${Y}\n');
  assert.equal(f.severity, 'HIGH');
  assert.equal(f.detail, 'secret-looking variable set: API_KEY');
  assert.deepEqual(environmentFindings('/etc/environment', 'LANG=C.UTF-8\n'), []);
  assert.equal(contentFindings('/etc/profile.d/ci.sh', b('export NPM_TOKEN=abc\n'))[0]?.kind, 'secret-in-environment');
  assert.deepEqual(contentFindings('/etc/other.conf', b('NPM_TOKEN=abc\n')), [], 'only environment files');
});

test('dedupe keeps one finding per kind and path', () => {
  const f = { severity: 'HIGH' as const, kind: 'k', path: '/p', detail: 'd' };
  assert.equal(dedupe([f, { ...f, detail: 'other' }, { ...f, kind: 'j' }]).length, 2);
});
