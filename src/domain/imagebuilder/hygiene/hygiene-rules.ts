// The rules of a hygiene scan, on names and file contents alone (the walk that feeds them is
// hygiene-walk.ts). Severities (docs/hygiene-scan.md): HIGH for what lets someone into, or
// impersonate, every instance launched from the image, or spend the builder's cloud account;
// MEDIUM for what exposes the build's history or lets one user in; LOW for identity and
// leftovers that only make instances less distinct or the image larger. A finding's detail never
// repeats the secret.
import type { HygieneFinding } from './hygiene-types.ts';

export const SHELL_HISTORIES = new Set([
  '.bash_history', '.zsh_history', '.sh_history', '.ash_history', '.history', '.ksh_history',
  '.python_history', '.node_repl_history', '.mysql_history', '.psql_history', '.sqlite_history', '.rediscli_history',
]);

/** Files whose name alone says they hold credentials, by their path's last two parts. */
const CREDENTIAL_FILES: [RegExp, string][] = [
  [/(^|\/)\.aws\/credentials$/, 'an AWS shared credentials file'],
  [/(^|\/)\.git-credentials$/, 'a git credential store (passwords or tokens in URLs)'],
  [/(^|\/)\.docker\/config\.json$/, 'a Docker client configuration'],
  [/(^|\/)\.netrc$/, 'a .netrc file'],
  [/(^|\/)\.pgpass$/, 'a PostgreSQL password file'],
];

/** Environment files whose assignments are read by every login or service. */
export function isEnvironmentFile(path: string): boolean {
  return path === '/etc/environment' || /^\/etc\/(profile\.d\/[^/]+|default\/[^/]+|environment\.d\/[^/]+)$/.test(path)
    || /\/\.env$/.test(path);
}

const PEM_PRIVATE_KEY = /-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/;
const AWS_KEY_ID = /\b((?:AKIA|ASIA)[A-Z0-9]{16})\b/g;
const AWS_SECRET = /(aws_secret_access_key|secret_?access_?key)\s*[=:]\s*["']?[A-Za-z0-9/+]{40}\b/i;
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** AKIA…WXYZ: enough to find the key in IAM, not enough to use it. */
export const maskKeyId = (id: string) => `${id.slice(0, 4)}…${id.slice(-4)}`;

export const isSshHostPrivateKey = (name: string) => /^ssh_host_[a-z0-9_-]*key$/.test(name);

export function sshHostKeyFinding(path: string): HygieneFinding {
  return { severity: 'HIGH', kind: 'ssh-host-key', path, detail: 'SSH host private key baked into the image: every instance shares it, so one instance can impersonate the others' };
}

/** authorized_keys: root's lets the key's holder into every instance as root (HIGH); a user's, as that user (MEDIUM). */
export function authorizedKeysFinding(path: string, data: Buffer, ofRoot: boolean): HygieneFinding | undefined {
  const keys = data.toString('utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).length;
  if (!keys) return undefined;
  return {
    severity: ofRoot ? 'HIGH' : 'MEDIUM', kind: 'authorized-keys', path,
    detail: `${keys} authorized key${keys === 1 ? '' : 's'}${ofRoot ? ' for root' : ''}: whoever holds ${keys === 1 ? 'it' : 'them'} can log in to every instance`,
  };
}

export function shellHistoryFinding(path: string, size: number): HygieneFinding | undefined {
  if (!size) return undefined;
  return { severity: 'MEDIUM', kind: 'shell-history', path, detail: `shell history of ${size} bytes: the build's commands (and any secrets typed) ship with the image` };
}

/** /etc/shadow: a root password set (or empty, which logs in without one). Locked (`!`, `*`) is fine. */
export function shadowFindings(path: string, data: Buffer): HygieneFinding[] {
  for (const line of data.toString('utf8').split('\n')) {
    const [user, hash] = line.split(':');
    if (user !== 'root' || hash === undefined) continue;
    if (hash === '') return [{ severity: 'HIGH', kind: 'root-password', path, detail: 'root has an empty password: anyone can log in as root on a console' }];
    if (hash.startsWith('!') || hash.startsWith('*')) return [];
    return [{ severity: 'HIGH', kind: 'root-password', path, detail: 'root has a password set: every instance shares it' }];
  }
  return [];
}

export function machineIdFinding(path: string, data: Buffer): HygieneFinding | undefined {
  const id = data.toString('utf8').trim();
  if (!id || id === 'uninitialized') return undefined;
  return { severity: 'LOW', kind: 'machine-id', path, detail: 'a machine-id is kept: instances share it (journald, DHCP client ids) instead of getting their own at first boot' };
}

/** Private keys and AWS access keys in any file's contents; credential files by name. */
export function contentFindings(path: string, data: Buffer): HygieneFinding[] {
  const text = data.toString('latin1');
  const out: HygieneFinding[] = [];
  const pem = PEM_PRIVATE_KEY.exec(text);
  if (pem) {
    const encrypted = pem[1].startsWith('ENCRYPTED') || /Proc-Type: 4,ENCRYPTED/.test(text);
    out.push({ severity: 'HIGH', kind: 'private-key', path, detail: `${pem[1].toLowerCase()}${encrypted ? ' (passphrase-protected)' : ''}` });
  }
  const ids = [...new Set([...text.matchAll(AWS_KEY_ID)].map((m) => m[1]))];
  if (ids.length) {
    const withSecret = AWS_SECRET.test(text);
    out.push({
      severity: 'HIGH', kind: 'cloud-credentials', path,
      detail: `AWS access key id${ids.length > 1 ? 's' : ''} ${ids.map(maskKeyId).join(', ')}${withSecret ? ' with a secret access key' : ''}`,
    });
  }
  const named = CREDENTIAL_FILES.find(([re]) => re.test(path));
  if (named && !ids.length && text.trim()) out.push({ severity: 'HIGH', kind: 'cloud-credentials', path, detail: named[1] });
  if (isEnvironmentFile(path)) out.push(...environmentFindings(path, text));
  return out;
}

/** Assignments of secret-looking names (…TOKEN, …SECRET, …PASSWORD, …API_KEY) to literal values. */
export function environmentFindings(path: string, text: string): HygieneFinding[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || !SECRET_NAME.test(m[1])) continue;
    const value = m[2].trim().replace(/^(["'])(.*)\1$/, '$2').trim();
    // Empty, or another variable's value (`$X`, `${X}`): nothing is stored here.
    if (!value || /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value)) continue;
    names.push(m[1]);
  }
  if (!names.length) return [];
  return [{ severity: 'HIGH', kind: 'secret-in-environment', path, detail: `secret-looking variable${names.length > 1 ? 's' : ''} set: ${[...new Set(names)].join(', ')}` }];
}

export function leftoverFinding(path: string, kind: 'temp-file' | 'cloud-init-instance'): HygieneFinding {
  return kind === 'temp-file'
    ? { severity: 'LOW', kind, path, detail: 'left in a temporary directory by the build' }
    : { severity: 'LOW', kind, path, detail: 'cloud-init instance data of the build instance: instances launched from the image start with it' };
}

/** One finding per kind and path (the first; rules can meet the same file twice). */
export function dedupe(findings: HygieneFinding[]): HygieneFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.kind}\0${f.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
