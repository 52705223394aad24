// Who is asking, and where. Every domain call receives this; nothing reads identity globally.

/** An account's place in an organization, used by organization and OU launch permissions. */
export interface OrgMembership {
  organizationArn: string;
  organizationalUnitArns: string[];
}

export interface Caller {
  account: string;
  region: string;
  org?: OrgMembership;
}

export interface RequestContext {
  requestId: string;
  caller: Caller;
}
