// Private addresses and DNS names, as in a default VPC: one 172.31.0.0/16 range per region.
// The first four addresses and the last one are reserved, as AWS reserves them in a subnet.

export const ADDRESS_RANGE = { first: ipToInt('172.31.0.4'), last: ipToInt('172.31.255.254') };

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** EC2's private DNS name: ip-172-31-1-2.ec2.internal in us-east-1, .REGION.compute.internal elsewhere. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}
