// What the instance pages read: DescribeInstances, the image behind an instance, its volumes and
// whether its security groups let ssh in, all through the EC2 API as the session's account.
import { ec2 } from '../../api.ts';
import type { Tag } from '../../components/format.ts';

export interface InstanceRow {
  InstanceId: string;
  ImageId?: string;
  InstanceType?: string;
  State?: { Name?: string; Code?: number };
  StateReason?: { Message?: string };
  PrivateIpAddress?: string;
  PublicIpAddress?: string;
  LaunchTime?: string;
  KeyName?: string;
  Placement?: { AvailabilityZone?: string };
  SecurityGroups?: { GroupId?: string; GroupName?: string }[];
  Architecture?: string;
  Tags?: Tag[];
}

export interface VolumeRow {
  VolumeId: string;
  Size?: number;
  VolumeType?: string;
  Iops?: number;
  Throughput?: number;
  State?: string;
  SnapshotId?: string;
  AvailabilityZone?: string;
  Encrypted?: boolean;
  CreateTime?: string;
  Attachments?: { InstanceId?: string; Device?: string; State?: string; DeleteOnTermination?: boolean }[];
  Tags?: Tag[];
}

interface IpPermission { IpProtocol?: string; FromPort?: number; ToPort?: number; IpRanges?: unknown[]; Ipv6Ranges?: unknown[]; PrefixListIds?: unknown[] }

export const nameTag = (tags: Tag[] | undefined): string | undefined => tags?.find((t) => t.Key === 'Name')?.Value;

/** States an instance only passes through: the page keeps reading until it settles. */
export const TRANSITIONAL = new Set(['pending', 'stopping', 'shutting-down']);

export async function listInstances(): Promise<InstanceRow[]> {
  const rows: InstanceRow[] = [];
  let token: string | undefined;
  do {
    const out = await ec2<{ Reservations?: { Instances?: InstanceRow[] }[]; NextToken?: string }>('DescribeInstances', { MaxResults: 1000, NextToken: token });
    for (const r of out.Reservations ?? []) rows.push(...(r.Instances ?? []));
    token = out.NextToken;
  } while (token);
  return rows;
}

export async function describeInstance(instanceId: string): Promise<InstanceRow> {
  const out = await ec2<{ Reservations?: { Instances?: InstanceRow[] }[] }>('DescribeInstances', { InstanceId: [instanceId] });
  const found = out.Reservations?.[0]?.Instances?.[0];
  if (!found) throw new Error(`Instance ${instanceId} was not found.`);
  return found;
}

export interface ImageSummary { ImageId: string; Name?: string; Description?: string; State?: string; PlatformDetails?: string }

/** The instance's image, or undefined when it is gone or not visible any more. */
export async function describeImage(imageId: string): Promise<ImageSummary | undefined> {
  const out = await ec2<{ Images?: ImageSummary[] }>('DescribeImages', { ImageId: [imageId], IncludeDeprecated: true }).catch(() => ({ Images: [] }));
  return out.Images?.[0];
}

export async function volumesOf(instanceId: string): Promise<VolumeRow[]> {
  const out = await ec2<{ Volumes?: VolumeRow[] }>('DescribeVolumes', { Filter: [{ Name: 'attachment.instance-id', Value: [instanceId] }] });
  return out.Volumes ?? [];
}

/** The login user: the image's documented one where its name says which distribution it is. */
export function loginUser(image: ImageSummary | undefined): string {
  const text = `${image?.Name ?? ''} ${image?.Description ?? ''}`.toLowerCase();
  if (text.includes('debian')) return 'admin';
  if (text.includes('ubuntu')) return 'ubuntu';
  if (text.includes('centos')) return 'centos';
  if (text.includes('fedora')) return 'fedora';
  return 'ec2-user';
}

/**
 * A rule letting ssh in from addresses (a CIDR or prefix list): a rule naming only other groups
 * (the default group's "from itself") lets in their members, not the person at the console.
 */
const opensSsh = (p: IpPermission): boolean => {
  const fromAddresses = !!(p.IpRanges?.length || p.Ipv6Ranges?.length || p.PrefixListIds?.length);
  if (!fromAddresses) return false;
  if (p.IpProtocol === '-1' || p.IpProtocol === 'all') return true;
  if (p.IpProtocol !== 'tcp' && p.IpProtocol !== '6') return false;
  return (p.FromPort ?? 0) <= 22 && 22 <= (p.ToPort ?? 65535);
};

/** Whether any of the groups lets TCP port 22 in from some addresses. */
export async function sshAllowed(groupIds: string[]): Promise<boolean> {
  if (!groupIds.length) return false;
  const out = await ec2<{ SecurityGroups?: { IpPermissions?: IpPermission[] }[] }>('DescribeSecurityGroups', { GroupId: groupIds });
  return (out.SecurityGroups ?? []).some((g) => (g.IpPermissions ?? []).some(opensSsh));
}

/** GetConsoleOutput's text (the API sends it base64-encoded). */
export async function consoleOutput(instanceId: string): Promise<string> {
  const out = await ec2<{ Output?: string }>('GetConsoleOutput', { InstanceId: instanceId });
  if (!out.Output) return '';
  const bytes = Uint8Array.from(atob(out.Output), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
