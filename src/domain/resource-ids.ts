// Resource id formats. AWS ids are a prefix and 8 or 17 lower-case hex digits.
import { Errors } from './errors.ts';

const ID = /^([a-z]+)-([0-9a-f]{8}|[0-9a-f]{17})$/;

export function isResourceId(prefix: string, id: string): boolean {
  const m = ID.exec(id);
  return !!m && m[1] === prefix;
}

export function requireImageId(id: string): string {
  if (!isResourceId('ami', id)) throw Errors.amiMalformed(id);
  return id;
}

/** Any image id: a machine (ami-), kernel (aki-) or ramdisk (ari-) image, as DescribeImages accepts them. */
export const isAnyImageId = (id: string): boolean => ['ami', 'aki', 'ari'].some((p) => isResourceId(p, id));

/** An id DescribeImages and the image attributes accept; a machine image's malformed-id error otherwise. */
export function requireAnyImageId(id: string): string {
  if (!isAnyImageId(id)) throw Errors.amiMalformed(id);
  return id;
}

/** The resource type an id names, as DescribeTags reports it, or undefined when unknown. */
export function resourceTypeOf(id: string): string | undefined {
  const m = ID.exec(id);
  if (!m) return undefined;
  return ({ ami: 'image', aki: 'image', ari: 'image', snap: 'snapshot', vol: 'volume', i: 'instance', key: 'key-pair', sg: 'security-group', sgr: 'security-group-rule', vpc: 'vpc', subnet: 'subnet' } as Record<string, string>)[m[1]];
}

export const isAccountId = (s: string): boolean => /^\d{12}$/.test(s);
