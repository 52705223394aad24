// What the guest reads from its DMI tables (/sys/class/dmi/id/): values EC2's own machines carry,
// so cloud-init's ds-identify recognises an EC2 instance and uses the EC2 datasource (it looks for
// a product_uuid or product_serial starting with "ec2", and sys_vendor "Amazon EC2"). The UUID is
// derived from the instance id: the same instance always has the same one, as on EC2.
import { createHash } from 'node:crypto';

/** The instance's SMBIOS system UUID: "ec2" and 29 hex digits of a hash of the instance id. */
export function ec2SystemUuid(instanceId: string): string {
  const hex = `ec2${createHash('sha256').update(instanceId).digest('hex')}`.slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `-smbios` values for an instance (type 1: the system; type 3: the chassis asset tag EC2 sets to the instance id). */
export function ec2Smbios(instanceId: string, instanceType: string): string[] {
  const uuid = ec2SystemUuid(instanceId);
  const safe = (v: string) => v.replace(/[^A-Za-z0-9._-]/g, '');
  return [
    `type=1,manufacturer=Amazon EC2,product=${safe(instanceType)},version=1.0,serial=${uuid},uuid=${uuid}`,
    `type=3,manufacturer=Amazon EC2,asset=${safe(instanceId)}`,
  ];
}
