// Private addresses and DNS names. An instance's address comes from its subnet's range (the
// subnet's first four addresses and its last are reserved, as AWS reserves them; see
// network/instance-network.ts), unique in the region.
/** EC2's private DNS name: ip-172-31-1-2.ec2.internal in us-east-1, .REGION.compute.internal elsewhere. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}
