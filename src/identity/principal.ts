// Who signed a request: an account's root (its own access keys, allowed everything the account
// may do, as the AWS root user is) or one of the account's IAM-style users, whose identity
// policies are checked on every call.
import type { IdentityPolicy } from './policy/document.ts';

export interface IamUser {
  name: string;
  /** `arn:aws:iam::ACCOUNT:user/NAME` */
  arn: string;
  policies: readonly IdentityPolicy[];
}

export interface Principal {
  account: string;
  /** Absent for the account's root. */
  user?: IamUser;
}

export const userArn = (account: string, name: string): string => `arn:aws:iam::${account}:user/${name}`;
export const rootArn = (account: string): string => `arn:aws:iam::${account}:root`;
export const principalArn = (p: Principal): string => p.user?.arn ?? rootArn(p.account);
