// IPv4 and IPv6 CIDR blocks as EC2 validates them in security group rules: a well-formed address
// and prefix length, and no host bits set (EC2 refuses 10.0.0.1/8 rather than rounding it).
import { isIPv4, isIPv6 } from 'node:net';

export interface Ipv4Block { base: number; prefix: number }

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The block, or undefined when `cidr` is not a canonical IPv4 CIDR. */
export function parseIpv4Cidr(cidr: string): Ipv4Block | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  if (!m || !isIPv4(m[1]) || m[1].split('.').some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  const base = ipv4ToInt(m[1]);
  if (base % 2 ** (32 - prefix) !== 0) return undefined;
  return { base, prefix };
}

export function ipv4BlockSize(b: Ipv4Block): number {
  return 2 ** (32 - b.prefix);
}

export function ipv4Contains(b: Ipv4Block, address: number): boolean {
  return address >= b.base && address < b.base + ipv4BlockSize(b);
}

function ipv6ToBigInt(ip: string): bigint {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** True when `cidr` is an IPv6 CIDR with no host bits set. */
export function isIpv6Cidr(cidr: string): boolean {
  const m = /^([0-9a-fA-F:]+)\/([0-9]{1,3})$/.exec(cidr);
  if (!m || !isIPv6(m[1]) || Number(m[2]) > 128) return false;
  const hostBits = 128n - BigInt(Number(m[2]));
  return ipv6ToBigInt(m[1]) % (1n << hostBits) === 0n;
}
