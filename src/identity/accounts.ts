// Accounts and their access keys, from the file given to `amiforge serve --accounts`.
//
// {
//   "accounts": [
//     { "id": "111111111111", "name": "platform",
//       "organization": { "arn": "arn:aws:organizations::111111111111:organization/o-abcdefghij",
//                         "organizationalUnits": ["arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34"] },
//       "accessKeys": [ { "accessKeyId": "AKIA...", "secretAccessKey": "..." } ] }
//   ]
// }
import { readFileSync } from 'node:fs';
import type { OrgMembership } from '../domain/context.ts';

export interface AccessKey { accessKeyId: string; secretAccessKey: string }
export interface Account { id: string; name?: string; org?: OrgMembership; accessKeys: AccessKey[] }

export interface AccountDirectory {
  /** The account and secret for an access key id, if the key is known. */
  byAccessKey(accessKeyId: string): { account: Account; secret: string } | undefined;
  byId(id: string): Account | undefined;
}

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
  const keys = new Map<string, { account: Account; secret: string }>();
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
    };
    if (ids.has(id)) fail(file, `account ${id} is listed twice`);
    ids.set(id, account);
    for (const k of account.accessKeys) {
      if (!k.accessKeyId || !k.secretAccessKey) fail(file, `account ${id} has an access key without accessKeyId or secretAccessKey`);
      if (keys.has(k.accessKeyId)) fail(file, `access key ${k.accessKeyId} is listed twice`);
      keys.set(k.accessKeyId, { account, secret: k.secretAccessKey });
    }
  }
  return { byAccessKey: (k) => keys.get(k), byId: (id) => ids.get(id) };
}
