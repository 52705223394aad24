// The parameters a Systems Manager request acts on, as IAM resources
// (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`). A public parameter (`/aws/...`) is named in the
// ARN form AWS uses for it, with no account. Operations that name no parameter act on `*`.
import type { Caller } from '../domain/context.ts';
import { parameterArn } from '../domain/ssm/parameter-names.ts';
import type { ResourceTarget } from './ec2-resources.ts';

export function ssmResources(action: string, input: Record<string, unknown>, caller: Caller): ResourceTarget[] {
  const names: string[] = [];
  if (typeof input.Name === 'string') names.push(input.Name);
  if (Array.isArray(input.Names)) names.push(...input.Names.filter((n): n is string => typeof n === 'string'));
  if (typeof input.Path === 'string') names.push(input.Path.length > 1 && input.Path.endsWith('/') ? input.Path.slice(0, -1) : input.Path);
  if (input.ResourceType === 'Parameter' && typeof input.ResourceId === 'string') names.push(input.ResourceId);
  if (!names.length || action === 'DescribeParameters') return [{ arn: '*', region: caller.region }];
  return names.map((text) => {
    // A selector (`name:3`, `name:label`) is authorized on the parameter it selects.
    const name = text.includes(':') ? text.slice(0, text.lastIndexOf(':')) : text;
    const account = name.startsWith('/aws/') ? '' : caller.account;
    return { arn: parameterArn(caller.region, account, name), region: caller.region };
  });
}

export function ssmRequestTags(input: Record<string, unknown>): { Key?: string; Value?: string }[] {
  return Array.isArray(input.Tags) ? input.Tags as { Key?: string; Value?: string }[] : [];
}
