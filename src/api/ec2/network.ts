// Network operations: the default VPC, its subnets and security groups (src/domain/network).
import type { Ec2HandlerTable } from './handler.ts';

export const networkHandlers: Ec2HandlerTable = {
  DescribeVpcs: (input, ctx, s) => s.vpcs.describeVpcs(ctx.caller, input),
  DescribeSubnets: (input, ctx, s) => s.vpcs.describeSubnets(ctx.caller, input),
  DescribeAccountAttributes: (input, ctx, s) => s.vpcs.describeAccountAttributes(ctx.caller, input),
  CreateSecurityGroup: (input, ctx, s) => s.securityGroups.create(ctx.caller, input),
  DeleteSecurityGroup: (input, ctx, s) => s.securityGroups.delete(ctx.caller, input),
  DescribeSecurityGroups: (input, ctx, s) => s.securityGroups.describe(ctx.caller, input),
  AuthorizeSecurityGroupIngress: (input, ctx, s) => s.securityGroups.authorize(ctx.caller, input, false),
  AuthorizeSecurityGroupEgress: (input, ctx, s) => s.securityGroups.authorize(ctx.caller, input, true),
  RevokeSecurityGroupIngress: (input, ctx, s) => s.securityGroups.revoke(ctx.caller, input, false),
  RevokeSecurityGroupEgress: (input, ctx, s) => s.securityGroups.revoke(ctx.caller, input, true),
  DescribeSecurityGroupRules: (input, ctx, s) => s.securityGroups.describeRules(ctx.caller, input),
  ModifySecurityGroupRules: (input, ctx, s) => s.securityGroups.modifyRules(ctx.caller, input),
};
