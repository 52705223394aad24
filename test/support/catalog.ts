// The shipped catalogue's image ids, for tests that expect them in listings.
import { readFileSync } from 'node:fs';
import { DescribeImagesCommand, type DescribeImagesCommandInput, type EC2Client } from '@aws-sdk/client-ec2';

interface CatalogEntry { regions: Record<string, string>; ownerId: string; ownerAlias?: string; name: string }

export const catalog: CatalogEntry[] = JSON.parse(readFileSync(new URL('../../catalog/default.json', import.meta.url), 'utf8')).images;
export const amazonInUsEast1 = catalog.filter((i) => i.ownerAlias === 'amazon' && i.regions['us-east-1']).map((i) => i.regions['us-east-1']).sort();
export const publicInUsEast1 = catalog.filter((i) => i.regions['us-east-1']).map((i) => i.regions['us-east-1']).sort();

/** The sorted ids DescribeImages returns for `input`. */
export async function describeIds(c: EC2Client, input: DescribeImagesCommandInput): Promise<string[]> {
  const out = await c.send(new DescribeImagesCommand(input));
  return (out.Images ?? []).map((i) => i.ImageId!).sort();
}
