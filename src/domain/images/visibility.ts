// Who may see and launch an image: its owner, everyone when public, and the accounts,
// organizations and organizational units it is shared with.
import type { Caller } from '../context.ts';
import type { ImageRecord, ImageVisibility } from '../../ports/metadata-store.ts';

export function visibilityOf(caller: Caller): ImageVisibility {
  return {
    account: caller.account,
    organizationArn: caller.org?.organizationArn,
    organizationalUnitArns: caller.org?.organizationalUnitArns,
  };
}

export const isPublicImage = (r: ImageRecord): boolean => r.launchPermissions.some((p) => p.Group === 'all');

export function canSee(caller: Caller, r: ImageRecord): boolean {
  if (r.image.ownerId === caller.account || isPublicImage(r)) return true;
  const orgs = new Set([caller.org?.organizationArn, ...(caller.org?.organizationalUnitArns ?? [])]);
  return r.launchPermissions.some((p) =>
    p.UserId === caller.account
    || (p.OrganizationArn !== undefined && orgs.has(p.OrganizationArn))
    || (p.OrganizationalUnitArn !== undefined && orgs.has(p.OrganizationalUnitArn)));
}
