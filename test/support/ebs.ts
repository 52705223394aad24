// Helpers for wire tests of the EBS direct APIs through the AWS SDK for JavaScript v3: a client,
// deterministic block contents (one reusable 512 KiB buffer, so large uploads stay small in
// memory), uploads of whole snapshots and checks of EBS's rest-json errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, PutSnapshotBlockCommand, StartSnapshotCommand,
  type StartSnapshotCommandInput,
} from '@aws-sdk/client-ebs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { credentialsOf, ec2Client, type Credentials } from './clients.ts';
import { ALICE, BOB, startServer, type RunningServer } from './server.ts';
import { expectAwsError, type AwsError } from './sdk.ts';

export const BLOCK_SIZE = 512 * 1024;

export function ebsClient(endpoint: string, credentials: Credentials, region = 'us-east-1'): EBSClient {
  return new EBSClient({ endpoint, region, credentials, maxAttempts: 1 });
}

export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();
export const checksumOf = (data: Uint8Array): string => sha256(data).toString('base64');

/**
 * Fills `buf` (reused between calls) with the block named by `seed`: the SHA-256 of the seed,
 * repeated. Different seeds give different blocks, none of them zero-filled.
 */
export function fillBlock(buf: Buffer, seed: string): Buffer {
  return buf.fill(sha256(Buffer.from(seed, 'utf8')));
}

/** A fresh block buffer (for callers that keep the bytes to compare later). */
export const blockOf = (seed: string): Buffer => fillBlock(Buffer.alloc(BLOCK_SIZE), seed);

/** LINEAR aggregation: SHA-256 over the written blocks' raw SHA-256 digests in block-index order. */
export function linearChecksum(digestsInIndexOrder: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const d of digestsInIndexOrder) h.update(d);
  return h.digest('base64');
}

export async function putBlock(ebs: EBSClient, snapshotId: string, index: number, data: Buffer, progress?: number): Promise<string> {
  const checksum = checksumOf(data);
  const out = await ebs.send(new PutSnapshotBlockCommand({
    SnapshotId: snapshotId, BlockIndex: index, BlockData: data, DataLength: data.length,
    Checksum: checksum, ChecksumAlgorithm: 'SHA256', Progress: progress,
  }));
  assert.equal(out.$metadata.httpStatusCode, 201);
  assert.equal(out.Checksum, checksum);
  assert.equal(out.ChecksumAlgorithm, 'SHA256');
  return checksum;
}

export interface Upload {
  snapshotId: string;
  /** Block index → base64 SHA-256 of the block written there. */
  checksums: Map<number, string>;
}

/**
 * Starts a snapshot, writes the blocks named by `seeds` (block index → seed) through one reused
 * buffer, and completes it with the LINEAR aggregate checksum.
 */
export async function uploadSnapshot(
  ebs: EBSClient, start: Partial<StartSnapshotCommandInput>, seeds: Map<number, string>,
): Promise<Upload> {
  const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ...start }));
  const snapshotId = started.SnapshotId!;
  const buf = Buffer.alloc(BLOCK_SIZE);
  const checksums = new Map<number, string>();
  const indexes = [...seeds.keys()].sort((a, b) => a - b);
  for (const index of indexes) checksums.set(index, await putBlock(ebs, snapshotId, index, fillBlock(buf, seeds.get(index)!)));
  const out = await ebs.send(new CompleteSnapshotCommand({
    SnapshotId: snapshotId,
    ChangedBlocksCount: indexes.length,
    Checksum: linearChecksum(indexes.map((i) => Buffer.from(checksums.get(i)!, 'base64'))),
    ChecksumAlgorithm: 'SHA256',
    ChecksumAggregationMethod: 'LINEAR',
  }));
  assert.equal(out.Status, 'completed');
  return { snapshotId, checksums };
}

/** Reads one block; returns its bytes and the checksum the service reported. */
export async function getBlock(ebs: EBSClient, snapshotId: string, index: number, token: string): Promise<{ data: Buffer; checksum: string }> {
  const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }));
  const data = Buffer.from(await out.BlockData!.transformToByteArray());
  assert.equal(out.DataLength, data.length);
  assert.equal(out.ChecksumAlgorithm, 'SHA256');
  assert.equal(out.Checksum, checksumOf(data), 'the reported checksum is that of the bytes returned');
  return { data, checksum: out.Checksum! };
}

/** An EBS error: the SDK exposes the code as `name`, the status in $metadata and `Reason` as a member. */
export async function expectEbsError(
  promise: Promise<unknown>, expected: { name: string; status: number; reason?: string; message?: RegExp },
): Promise<AwsError & { Reason?: string }> {
  const err = (await expectAwsError(promise, { name: expected.name, status: expected.status, message: expected.message })) as AwsError & { Reason?: string };
  if (expected.reason !== undefined) assert.equal(err.Reason, expected.reason, `Reason of ${err.name} (message: ${err.message})`);
  return err;
}

export interface AliceAndBob {
  server: RunningServer;
  alice: EC2Client;
  bob: EC2Client;
  aliceEbs: EBSClient;
  bobEbs: EBSClient;
}

/** A strict-mode server with accounts ALICE and BOB, and each one's EC2 and EBS direct clients. */
export async function startAliceAndBob(extraArgs?: string[]): Promise<AliceAndBob> {
  const server = await startServer({ accounts: [ALICE, BOB], ...(extraArgs ? { extraArgs } : {}) });
  return {
    server,
    alice: ec2Client(server.endpoint, credentialsOf(ALICE)),
    bob: ec2Client(server.endpoint, credentialsOf(BOB)),
    aliceEbs: ebsClient(server.endpoint, credentialsOf(ALICE)),
    bobEbs: ebsClient(server.endpoint, credentialsOf(BOB)),
  };
}
