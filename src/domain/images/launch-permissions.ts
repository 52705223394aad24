// Launch permission changes (ModifyImageAttribute), in both of AWS's request forms: the
// structured LaunchPermission.Add/Remove lists, and the older OperationType + UserId/UserGroup.
import type { LaunchPermission, ModifyImageAttributeRequest } from '../../protocol/ec2/types.generated.ts';
import { Errors } from '../errors.ts';
import { isAccountId } from '../resource-ids.ts';

const ORG_ARN = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_ARN = /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;

const itemError = Errors.amiAttributeItem;

/** One launch permission, checked; exactly one of its members is set. */
export function checkPermission(p: LaunchPermission): LaunchPermission {
  const set = [p.UserId, p.Group, p.OrganizationArn, p.OrganizationalUnitArn].filter((v) => v !== undefined);
  if (set.length !== 1) {
    throw Errors.invalidParameterCombination('A launch permission names exactly one of UserId, Group, OrganizationArn or OrganizationalUnitArn.');
  }
  if (p.UserId !== undefined && !isAccountId(p.UserId)) throw itemError(p.UserId, 'userId');
  if (p.Group !== undefined && p.Group !== 'all') throw itemError(p.Group, 'group');
  if (p.OrganizationArn !== undefined && !ORG_ARN.test(p.OrganizationArn)) throw itemError(p.OrganizationArn, 'organizationArn');
  if (p.OrganizationalUnitArn !== undefined && !OU_ARN.test(p.OrganizationalUnitArn)) {
    throw itemError(p.OrganizationalUnitArn, 'organizationalUnitArn');
  }
  return p;
}

const keyOf = (p: LaunchPermission) =>
  p.UserId ? `u:${p.UserId}` : p.Group ? `g:${p.Group}` : p.OrganizationArn ? `o:${p.OrganizationArn}` : `ou:${p.OrganizationalUnitArn}`;

export interface PermissionChange { add: LaunchPermission[]; remove: LaunchPermission[] }

/** The change a ModifyImageAttribute request asks for, or undefined when it touches none. */
export function permissionChange(req: ModifyImageAttributeRequest): PermissionChange | undefined {
  if (req.LaunchPermission) {
    return { add: (req.LaunchPermission.Add ?? []).map(checkPermission), remove: (req.LaunchPermission.Remove ?? []).map(checkPermission) };
  }
  const legacy: LaunchPermission[] = [
    ...(req.UserIds ?? []).map((UserId) => ({ UserId })),
    ...(req.UserGroups ?? []).map((Group) => ({ Group: Group as 'all' })),
    ...(req.OrganizationArns ?? []).map((OrganizationArn) => ({ OrganizationArn })),
    ...(req.OrganizationalUnitArns ?? []).map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
  if (req.Attribute !== 'launchPermission' && !legacy.length) return undefined;
  if (!req.OperationType) throw Errors.missingParameter('OperationType');
  const perms = legacy.map(checkPermission);
  return req.OperationType === 'add' ? { add: perms, remove: [] } : { add: [], remove: perms };
}

export function applyPermissionChange(current: LaunchPermission[], change: PermissionChange): LaunchPermission[] {
  const byKey = new Map(current.map((p) => [keyOf(p), p]));
  for (const p of change.remove) byKey.delete(keyOf(p));
  for (const p of change.add) byKey.set(keyOf(p), p);
  return [...byKey.values()];
}
