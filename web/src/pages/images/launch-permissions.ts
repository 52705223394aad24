// Launch permissions as the page edits them: a set of grants, and the ModifyImageAttribute
// change (Add and Remove lists) that turns the current set into the wanted one.

export interface LaunchPermission { UserId?: string; Group?: string; OrganizationArn?: string; OrganizationalUnitArn?: string }

export type Grant = { kind: 'account' | 'organization' | 'ou'; value: string };

export function grantsOf(perms: LaunchPermission[]): { grants: Grant[]; isPublic: boolean } {
  const grants: Grant[] = [];
  for (const p of perms) {
    if (p.UserId) grants.push({ kind: 'account', value: p.UserId });
    if (p.OrganizationArn) grants.push({ kind: 'organization', value: p.OrganizationArn });
    if (p.OrganizationalUnitArn) grants.push({ kind: 'ou', value: p.OrganizationalUnitArn });
  }
  return { grants, isPublic: perms.some((p) => p.Group === 'all') };
}

/** An organization ARN (arn:aws:organizations::<mgmt>:organization/o-...) or an OU's (.../ou/o-.../ou-...). */
export function grantFromArn(arn: string): Grant | undefined {
  if (/^arn:aws[\w-]*:organizations::\d{12}:ou\/o-[a-z0-9]+\/ou-[a-z0-9-]+$/.test(arn)) return { kind: 'ou', value: arn };
  if (/^arn:aws[\w-]*:organizations::\d{12}:organization\/o-[a-z0-9]+$/.test(arn)) return { kind: 'organization', value: arn };
  return undefined;
}

const key = (g: Grant) => `${g.kind}:${g.value}`;

function permissionOf(g: Grant): LaunchPermission {
  if (g.kind === 'account') return { UserId: g.value };
  if (g.kind === 'organization') return { OrganizationArn: g.value };
  return { OrganizationalUnitArn: g.value };
}

export function permissionChange(before: { grants: Grant[]; isPublic: boolean }, after: { grants: Grant[]; isPublic: boolean }) {
  const had = new Set(before.grants.map(key));
  const has = new Set(after.grants.map(key));
  const Add = after.grants.filter((g) => !had.has(key(g))).map(permissionOf);
  const Remove = before.grants.filter((g) => !has.has(key(g))).map(permissionOf);
  if (after.isPublic && !before.isPublic) Add.push({ Group: 'all' });
  if (!after.isPublic && before.isPublic) Remove.push({ Group: 'all' });
  return { Add, Remove };
}

export const grantText = (g: Grant): string => (g.kind === 'account' ? `Account ${g.value}` : g.kind === 'organization' ? `Organization ${g.value}` : `Organizational unit ${g.value}`);
