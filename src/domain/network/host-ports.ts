// Which of an instance's guest TCP ports are forwarded from its host address: those its security
// groups allow inbound from the host. The host is 127.0.0.1 as far as the rules are concerned, so
// an IPv4 CIDR rule counts when its block contains 127.0.0.1 (0.0.0.0/0, 127.0.0.0/8, ...); rules
// naming a group, an IPv6 block or a prefix list do not (the host is none of those). Protocol tcp
// or -1 (all). QEMU cannot forward 65,536 ports, so a wide range forwards only the well-known
// ports inside it; a range of at most MAX_WHOLE_RANGE ports is forwarded whole.
import type { SecurityGroupRecord } from '../../ports/network-repository.ts';
import { ipv4Contains, ipv4ToInt, parseIpv4Cidr } from './cidr.ts';

/** The host as a source address: what CIDR rules are matched against. */
export const HOST_SOURCE = ipv4ToInt('127.0.0.1');

/** Ranges this wide or narrower are forwarded port by port. */
export const MAX_WHOLE_RANGE = 64;

/** What a wider range (or all traffic) forwards: SSH, HTTP(S), RDP, WinRM and common alternates. */
export const WELL_KNOWN_PORTS: readonly number[] = [22, 80, 443, 3389, 5985, 5986, 8000, 8080, 8443];

/** The most ports one instance has forwarded, whatever its rules say. */
export const MAX_FORWARDED_PORTS = 256;

export function forwardedPorts(groups: SecurityGroupRecord[]): number[] {
  const ports = new Set<number>();
  for (const g of groups) {
    for (const r of g.rules) {
      if (r.egress || (r.protocol !== 'tcp' && r.protocol !== '-1') || !r.cidrIpv4) continue;
      const block = parseIpv4Cidr(r.cidrIpv4);
      if (!block || !ipv4Contains(block, HOST_SOURCE)) continue;
      const [from, to] = r.protocol === '-1' ? [0, 65535] : [r.fromPort, r.toPort];
      if (to - from + 1 <= MAX_WHOLE_RANGE) for (let p = Math.max(from, 1); p <= to; p++) ports.add(p);
      else for (const p of WELL_KNOWN_PORTS) if (p >= from && p <= to) ports.add(p);
    }
  }
  return [...ports].sort((a, b) => a - b).slice(0, MAX_FORWARDED_PORTS);
}
