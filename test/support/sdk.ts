// Helpers for wire tests that drive amiforge with the AWS SDK for JavaScript v3.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { RegisterImageCommand, type EC2Client, type RegisterImageCommandInput } from '@aws-sdk/client-ec2';
import { CompleteSnapshotCommand, EBSClient, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from './clients.ts';

/** What an SDK error carries: its code as `name`, AWS's message, and the HTTP status. */
export interface AwsError extends Error {
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export interface ExpectedError {
  name: string;
  status?: number;
  /** The exact message, or a pattern it must match. */
  message?: string | RegExp;
}

/** Awaits `promise`, which must reject with the AWS error described; returns that error. */
export async function expectAwsError(promise: Promise<unknown>, expected: ExpectedError): Promise<AwsError> {
  let err: AwsError | undefined;
  try {
    const result = await promise;
    assert.fail(`expected ${expected.name}, but the call succeeded: ${JSON.stringify(result)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e as AwsError;
  }
  assert.equal(err.name, expected.name, `error code (message: ${err.message})`);
  if (expected.status !== undefined) assert.equal(err.$metadata?.httpStatusCode, expected.status, `HTTP status of ${err.name}`);
  if (typeof expected.message === 'string') assert.equal(err.message, expected.message);
  else if (expected.message) assert.match(err.message, expected.message);
  return err;
}

export const AMI_ID = /^ami-[0-9a-f]{17}$/;
export const SNAPSHOT_ID = /^snap-[0-9a-f]{17}$/;

/**
 * Makes a completed, empty snapshot of `sizeGiB` owned by the client's account in its region,
 * through the EBS direct APIs (StartSnapshot, CompleteSnapshot) on the same endpoint, as a
 * RegisterImage needs a snapshot that exists.
 */
export async function createSnapshot(ec2: EC2Client, sizeGiB = 8): Promise<string> {
  const endpoint = await ec2.config.endpoint!();
  const ebs = new EBSClient({
    endpoint: `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`,
    region: await ec2.config.region(),
    credentials: await ec2.config.credentials(),
    maxAttempts: 1,
  });
  const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: sizeGiB, Timeout: 60 }));
  assert.match(started.SnapshotId ?? '', SNAPSHOT_ID);
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: started.SnapshotId, ChangedBlocksCount: 0 }));
  return started.SnapshotId!;
}

const defaultSnapshots = new Map<string, Promise<string>>();

/** One 8 GiB snapshot per endpoint, account and region, made on first use. */
export async function defaultSnapshot(ec2: EC2Client): Promise<string> {
  const endpoint = await ec2.config.endpoint!();
  const key = `${endpoint.hostname}:${endpoint.port}|${(await ec2.config.credentials()).accessKeyId}|${await ec2.config.region()}`;
  let snapshot = defaultSnapshots.get(key);
  if (!snapshot) defaultSnapshots.set(key, (snapshot = createSnapshot(ec2, 8)));
  return snapshot;
}

/** After a server reset the snapshots made so far are gone. */
export function forgetSnapshots(): void {
  defaultSnapshots.clear();
}

/**
 * Registers an EBS-backed image whose root volume is the account's default snapshot;
 * `extra` overrides or adds members.
 */
export async function registerEbs(client: EC2Client, name: string, extra: Partial<RegisterImageCommandInput> = {}): Promise<string> {
  const out = await client.send(new RegisterImageCommand({
    Name: name,
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: await defaultSnapshot(client), VolumeSize: 8 } }],
    ...extra,
  }));
  assert.match(out.ImageId ?? '', AMI_ID);
  return out.ImageId!;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** SHA-256 / HMAC-SHA256 in the shape @smithy/signature-v4 expects, from node:crypto. */
export class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface RawResponse { status: number; body: string; headers: Headers }

/**
 * Sends a form-encoded EC2 Query request signed with SigV4 (by the SDK's own signer), for
 * requests the EC2Client cannot make, such as an action that does not exist.
 */
export async function signedEc2Post(
  endpoint: string,
  credentials: Credentials,
  form: Record<string, string>,
  options: { region?: string; /** Sent instead of the signed form: a tampered request. */ sendInstead?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(endpoint);
  const body = new URLSearchParams(form).toString();
  const signer = new SignatureV4({ credentials, region: options.region ?? 'us-east-1', service: 'ec2', sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: { 'host': url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const sent = options.sendInstead ? new URLSearchParams(options.sendInstead).toString() : body;
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body: sent });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
