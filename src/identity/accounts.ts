// Accounts and their access keys, from the file given to `amiforge serve --accounts`.
//
// {
//   "accounts": [
//     { "id": "111111111111", "name": "platform",
//       "organization": { "arn": "arn:aws:organizations::111111111111:organization/o-abcdefghij",
//                         "organizationalUnits": ["arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34"] },
//       "accessKeys": [ { "accessKeyId": "AKIA...", "secretAccessKey": "..." },
//                       { "accessKeyId": "AKIA...", "secretAccessKey": "...", "operator": true } ],
//       "users": [ { "name": "ci", "accessKeys": [ ... ],
//                    "policies": [ { "Version": "2012-10-17", "Statement": [ ... ] }, { "file": "ci-policy.json" } ] } ] }
//   ]
// }
//
// An account's own keys are its root; a user's keys act within the account, limited by the
// user's identity policies (src/identity/policy/). A policy `file` is relative to this file.
// `"operator": true` on an access key, or on a user (all its keys), lets that key call the
// operator endpoints (/_amiforge/*, /metrics; docs/operators.md); it changes nothing else.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { OrgMembership } from '../domain/context.ts';
import { parseIdentityPolicy, PolicyDocumentError, type IdentityPolicy } from './policy/document.ts';
import { userArn, type IamUser } from './principal.ts';

export interface AccessKey { accessKeyId: string; secretAccessKey: string; operator?: boolean }
export interface Account { id: string; name?: string; org?: OrgMembership; accessKeys: AccessKey[]; users: IamUser[] }

export interface AccountDirectory {
  /** The account and secret for an access key id, the user when it is a user's key, and whether the key is an operator's. */
  byAccessKey(accessKeyId: string): KeyOwner | undefined;
  byId(id: string): Account | undefined;
  /** Access keys marked operator (on the key or its user). */
  readonly operatorKeys: number;
}

export interface KeyOwner { account: Account; secret: string; user?: IamUser; operator: boolean }

function fail(file: string, why: string): never {
  throw new Error(`${file}: ${why}`);
}

export function loadAccounts(file: string): AccountDirectory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(file, `cannot read the accounts file as JSON (${(err as Error).message})`);
  }
  const list = (parsed as { accounts?: unknown }).accounts;
  if (!Array.isArray(list)) fail(file, 'expected {"accounts": [...]}');
  const keys = new Map<string, KeyOwner>();
  const ids = new Map<string, Account>();
  for (const raw of list as Record<string, unknown>[]) {
    const id = String(raw.id ?? '');
    if (!/^\d{12}$/.test(id)) fail(file, `account id "${id}" is not 12 digits`);
    const orgRaw = raw.organization as { arn?: string; organizationalUnits?: string[] } | undefined;
    const account: Account = {
      id,
      name: raw.name as string | undefined,
      org: orgRaw?.arn ? { organizationArn: orgRaw.arn, organizationalUnitArns: orgRaw.organizationalUnits ?? [] } : undefined,
      accessKeys: (raw.accessKeys as AccessKey[] | undefined) ?? [],
      users: [],
    };
    if (ids.has(id)) fail(file, `account ${id} is listed twice`);
    ids.set(id, account);
    const addKeys = (owner: string, list: unknown, user?: IamUser, userIsOperator = false) => {
      if (list !== undefined && !Array.isArray(list)) fail(file, `${owner}: accessKeys must be a list`);
      for (const k of (list ?? []) as AccessKey[]) {
        if (!k?.accessKeyId || !k.secretAccessKey) fail(file, `${owner} has an access key without accessKeyId or secretAccessKey`);
        if (keys.has(k.accessKeyId)) fail(file, `access key ${k.accessKeyId} is listed twice`);
        const operator = userIsOperator || operatorFlag(file, `access key ${k.accessKeyId} of ${owner}`, k.operator);
        keys.set(k.accessKeyId, { account, secret: k.secretAccessKey, user, operator });
      }
    };
    addKeys(`account ${id}`, account.accessKeys);
    if (raw.users !== undefined && !Array.isArray(raw.users)) fail(file, `account ${id}: users must be a list`);
    for (const rawUser of (raw.users ?? []) as Record<string, unknown>[]) {
      const user = loadUser(file, id, rawUser);
      if (account.users.some((u) => u.name.toLowerCase() === user.name.toLowerCase())) fail(file, `account ${id} has two users named ${user.name}`);
      account.users.push(user);
      const who = `user ${user.name} of account ${id}`;
      addKeys(who, rawUser.accessKeys, user, operatorFlag(file, who, rawUser.operator));
    }
  }
  const operatorKeys = [...keys.values()].filter((k) => k.operator).length;
  return { byAccessKey: (k) => keys.get(k), byId: (id) => ids.get(id), operatorKeys };
}

/** `"operator"`: absent (false) or a boolean; anything else is a mistake worth stopping for. */
function operatorFlag(file: string, who: string, value: unknown): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true;
  return fail(file, `${who}: "operator" must be true or false, not ${JSON.stringify(value)}`);
}

/** IAM's user name rule: 1-64 of letters, digits and `+=,.@_-`. */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;

function loadUser(file: string, account: string, raw: Record<string, unknown>): IamUser {
  if (typeof raw !== 'object' || raw === null) fail(file, `account ${account} has a user that is not an object`);
  const name = raw.name;
  if (typeof name !== 'string' || !USER_NAME.test(name)) fail(file, `account ${account} has a user whose name ${JSON.stringify(name)} is not 1-64 letters, digits or +=,.@_-`);
  const who = `user ${name} of account ${account}`;
  if (raw.policies !== undefined && !Array.isArray(raw.policies)) fail(file, `${who}: policies must be a list of policy documents or {"file": ...}`);
  const policies: IdentityPolicy[] = ((raw.policies ?? []) as unknown[]).map((entry, i) => {
    const fromFile = typeof entry === 'object' && entry !== null && 'file' in entry ? String((entry as { file: unknown }).file) : undefined;
    let doc = entry;
    const source = fromFile ? `policy file ${fromFile}` : `inline policy ${i + 1}`;
    if (fromFile) {
      const path = resolve(dirname(file), fromFile);
      try {
        doc = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        fail(file, `${who}: cannot read ${source} as JSON (${(err as Error).message})`);
      }
    }
    try {
      return parseIdentityPolicy(doc, source);
    } catch (err) {
      if (err instanceof PolicyDocumentError) fail(file, `${who}: ${err.message}`);
      throw err;
    }
  });
  return { name, arn: userArn(account, name), policies };
}
