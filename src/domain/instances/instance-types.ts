// The instance types amiforge knows: vCPUs, memory, architecture and instance storage as AWS
// documents them for common families. A type EC2 has but this table lacks is refused with EC2's
// `Unsupported` rather than guessed at.

export interface InstanceTypeInfo {
  name: string;
  vcpus: number;
  memoryMiB: number;
  architecture: 'x86_64' | 'arm64';
  /** The virtualization platform (DescribeInstances reports `xen` for both, as EC2 does). */
  platform: 'xen' | 'nitro';
  threadsPerCore: number;
  /** Instance-store volumes the type has, GiB each (empty when EBS-only). */
  instanceStoreGiB: number[];
}

type Row = [size: string, vcpus: number, memoryGiB: number, store?: number[]];

function family(prefix: string, rows: Row[], o: { arch?: 'x86_64' | 'arm64'; platform?: 'xen' | 'nitro'; threads?: number } = {}): InstanceTypeInfo[] {
  const architecture = o.arch ?? 'x86_64';
  return rows.map(([size, vcpus, memoryGiB, store]) => ({
    name: `${prefix}.${size}`, vcpus, memoryMiB: Math.round(memoryGiB * 1024), architecture, platform: o.platform ?? 'nitro',
    threadsPerCore: Math.min(vcpus, o.threads ?? (architecture === 'arm64' ? 1 : 2)), instanceStoreGiB: store ?? [],
  }));
}

const burstable: Row[] = [['nano', 2, 0.5], ['micro', 2, 1], ['small', 2, 2], ['medium', 2, 4], ['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32]];
const general = (sizes: [string, number][]): Row[] => sizes.map(([s, v]) => [s, v, v * 4]);
const compute = (sizes: [string, number][]): Row[] => sizes.map(([s, v]) => [s, v, v * 2]);
const memory = (sizes: [string, number][]): Row[] => sizes.map(([s, v]) => [s, v, v * 8]);
const m5Sizes: [string, number][] = [['large', 2], ['xlarge', 4], ['2xlarge', 8], ['4xlarge', 16], ['8xlarge', 32], ['12xlarge', 48], ['16xlarge', 64], ['24xlarge', 96]];
const sixthGen: [string, number][] = [...m5Sizes.slice(0, 4), ['8xlarge', 32], ['12xlarge', 48], ['16xlarge', 64], ['24xlarge', 96], ['32xlarge', 128]];
const c5Sizes: [string, number][] = [['large', 2], ['xlarge', 4], ['2xlarge', 8], ['4xlarge', 16], ['9xlarge', 36], ['12xlarge', 48], ['18xlarge', 72], ['24xlarge', 96]];
const graviton: [string, number][] = [['medium', 1], ...m5Sizes.slice(0, 7)];

const TABLE: InstanceTypeInfo[] = [
  // m1.small is EC2's documented default InstanceType for RunInstances.
  ...family('m1', [['small', 1, 1.7, [160]]], { platform: 'xen', threads: 1 }),
  ...family('t2', [['nano', 1, 0.5], ['micro', 1, 1], ['small', 1, 2], ['medium', 2, 4], ['large', 2, 8], ['xlarge', 4, 16], ['2xlarge', 8, 32]], { platform: 'xen', threads: 1 }),
  ...family('t3', burstable),
  ...family('t3a', burstable),
  ...family('t4g', burstable, { arch: 'arm64' }),
  ...family('m5', general(m5Sizes)),
  ...family('m5d', [['large', 2, 8, [75]], ['xlarge', 4, 16, [150]], ['2xlarge', 8, 32, [300]], ['4xlarge', 16, 64, [300, 300]]]),
  ...family('m6i', general(sixthGen)),
  ...family('m7g', general(graviton), { arch: 'arm64' }),
  ...family('c5', compute(c5Sizes)),
  ...family('c5d', [['large', 2, 4, [50]], ['xlarge', 4, 8, [100]], ['2xlarge', 8, 16, [200]]]),
  ...family('c6i', compute(sixthGen)),
  ...family('r5', memory(m5Sizes)),
];

const BY_NAME = new Map(TABLE.map((t) => [t.name, t]));

export const DEFAULT_INSTANCE_TYPE = 'm1.small';

export const findInstanceType = (name: string): InstanceTypeInfo | undefined => BY_NAME.get(name);
export const knownInstanceTypes = (): readonly InstanceTypeInfo[] => TABLE;

/** Size of an instance-store volume `ephemeralN` on this type: its Nth disk, else 4 GiB. */
export function instanceStoreSize(type: InstanceTypeInfo, virtualName: string): number {
  const n = Number(/^ephemeral(\d+)$/.exec(virtualName)?.[1] ?? 0);
  return type.instanceStoreGiB[n] ?? 4;
}

/** Can an image of this architecture run on the type? i386 images run on x86_64 types. */
export function architectureFits(image: string | undefined, type: InstanceTypeInfo): boolean {
  const arch = image ?? 'x86_64';
  return arch === type.architecture || (arch === 'i386' && type.architecture === 'x86_64');
}
