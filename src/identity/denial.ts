// The words AWS uses when identity policies refuse a request, and EC2's "encoded authorization
// failure message". AWS encrypts the latter for `sts decode-authorization-message`; amiforge has
// no STS, so it is the same document in plain base64url JSON: what was asked, by whom, on what,
// with which condition keys, and which statement denied it.
import type { ConditionContext } from './policy/conditions.ts';
import type { Decision } from './policy/evaluate.ts';
import type { IamUser } from './principal.ts';

export interface Denial {
  user: IamUser;
  action: string;
  resource: string;
  decision: Decision;
  context: ConditionContext;
}

/** `User: ARN is not authorized to perform: ACTION on resource: ARN because ...` */
export function denialSentence(d: Denial): string {
  const explicit = d.decision.effect === 'explicit-deny';
  const why = explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${d.action} action`;
  return `User: ${d.user.arn} is not authorized to perform: ${d.action} on resource: ${d.resource} ${why}`;
}

/** EC2's form: the sentence, then the encoded authorization failure message. */
export function ec2DenialDetail(d: Denial): string {
  return `${denialSentence(d)}. Encoded authorization failure message: ${encodeDenial(d)}`;
}

export function encodeDenial(d: Denial): string {
  const doc = {
    allowed: false,
    explicitDeny: d.decision.effect === 'explicit-deny',
    matchedStatements: {
      items: d.decision.effect === 'explicit-deny'
        ? [{ statementId: d.decision.statement.sid ?? '', effect: 'DENY', source: d.decision.source }]
        : [],
    },
    context: {
      principal: { name: d.user.name, arn: d.user.arn },
      action: d.action,
      resource: d.resource,
      conditions: { items: d.context.entries().map(([key, values]) => ({ key, values: { items: values.map((value) => ({ value })) } })) },
    },
  };
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}
