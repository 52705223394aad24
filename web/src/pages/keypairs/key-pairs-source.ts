// Key pairs through EC2's own actions. ImportKeyPair's PublicKeyMaterial is a blob, which the
// Query protocol carries base64-encoded.
import { ec2 } from '../../api.ts';
import type { Tag } from '../../components/format.ts';
import type { CreatedKeyPair, KeyPairInfo } from '../../wire.ts';

export async function listKeyPairs(): Promise<KeyPairInfo[]> {
  return (await ec2<{ KeyPairs?: KeyPairInfo[] }>('DescribeKeyPairs')).KeyPairs ?? [];
}

const tagSpecification = (tags: Tag[]) => (tags.length ? { TagSpecification: [{ ResourceType: 'key-pair', Tag: tags }] } : {});

export function createKeyPair(o: { name: string; type: string; format: string; tags: Tag[] }): Promise<CreatedKeyPair> {
  return ec2<CreatedKeyPair>('CreateKeyPair', { KeyName: o.name, KeyType: o.type, KeyFormat: o.format, ...tagSpecification(o.tags) });
}

function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function importKeyPair(o: { name: string; publicKey: string; tags: Tag[] }): Promise<{ KeyPairId?: string; KeyFingerprint?: string }> {
  return ec2('ImportKeyPair', { KeyName: o.name, PublicKeyMaterial: base64Utf8(o.publicKey.trim()), ...tagSpecification(o.tags) });
}

export function deleteKeyPair(id: string | undefined): Promise<unknown> {
  return ec2('DeleteKeyPair', { KeyPairId: id });
}

