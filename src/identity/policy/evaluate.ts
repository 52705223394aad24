// IAM's policy evaluation logic for identity-based policies within one account: an explicit Deny
// in any statement wins; otherwise an Allow allows; otherwise the request is implicitly denied.
import { conditionHolds, type ConditionContext } from './conditions.ts';
import type { IdentityPolicy, Statement } from './document.ts';
import { iamWildcard } from './wildcard.ts';

export interface AuthorizationRequest {
  /** e.g. `ec2:CreateImage`; matched case-insensitively, as IAM matches action names. */
  action: string;
  /** The resource's ARN, or `*` for actions that name no resource. */
  resource: string;
  context: ConditionContext;
}

export type Decision =
  | { effect: 'allow'; statement: Statement }
  | { effect: 'explicit-deny'; statement: Statement; source: string }
  | { effect: 'implicit-deny' };

function applies(s: Statement, r: AuthorizationRequest): boolean {
  const actions = (patterns: string[]) => patterns.some((p) => iamWildcard(p, r.action, { ignoreCase: true }));
  const variables = s.variables ? r.context : undefined;
  const resources = (patterns: string[]) => patterns.some((p) => iamWildcard(p, r.resource, { variables }));
  if (s.action && !actions(s.action)) return false;
  if (s.notAction && actions(s.notAction)) return false;
  if (s.resource && !resources(s.resource)) return false;
  if (s.notResource && resources(s.notResource)) return false;
  return s.conditions.every((c) => conditionHolds(c, r.context, variables));
}

export function evaluatePolicies(policies: readonly IdentityPolicy[], request: AuthorizationRequest): Decision {
  let allow: Statement | undefined;
  for (const policy of policies) {
    for (const s of policy.statements) {
      if (!applies(s, request)) continue;
      if (s.effect === 'Deny') return { effect: 'explicit-deny', statement: s, source: policy.source };
      allow ??= s;
    }
  }
  return allow ? { effect: 'allow', statement: allow } : { effect: 'implicit-deny' };
}
