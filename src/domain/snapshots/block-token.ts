// Block tokens name one block of one completed snapshot. They are opaque to clients (base64,
// as the EBS model's pattern requires) and are checked against the snapshot's map on use.
import { Errors } from '../errors.ts';

export interface BlockTokenContent { snapshotId: string; index: number; hash: string }

export function encodeBlockToken(t: BlockTokenContent): string {
  return Buffer.from(`${t.snapshotId}:${t.index}:${t.hash}`, 'utf8').toString('base64');
}

export function decodeBlockToken(token: string): BlockTokenContent {
  const parts = Buffer.from(token, 'base64').toString('utf8').split(':');
  const index = Number(parts[1]);
  if (parts.length !== 3 || !/^snap-[0-9a-f]+$/.test(parts[0]) || !Number.isSafeInteger(index) || !/^[0-9a-f]{64}$/.test(parts[2])) {
    throw Errors.ebsValidation('INVALID_BLOCK_TOKEN', 'The block token is malformed.');
  }
  return { snapshotId: parts[0], index, hash: parts[2] };
}

/** Page tokens of the List* operations: the next block index to return, base64. */
export function encodePageToken(nextIndex: number): string {
  return Buffer.from(`next:${nextIndex}`, 'utf8').toString('base64');
}

export function decodePageToken(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  const m = /^next:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!m) throw Errors.ebsValidation('INVALID_PAGE_TOKEN', 'The pagination token is malformed.');
  return Number(m[1]);
}
