// Fuzz: random and hostile requests to every /console/* route of one strict-mode server, over raw
// TCP: the session route, /console/api/<service> (EC2, KMS, SSM, the Recycle Bin, Image Builder),
// /console/data/<view> and /console/stream/<name> for every view and stream registered (and names
// that are not), and the bundle's files (traversal, encoded traversal, NUL bytes). Each request
// comes as someone: a signed-in account, an IAM user of one allowed nothing, a cookie the server
// never issued (session fixation), garbage, a signed-out session, or nobody; with the session's
// CSRF token, another session's, a wrong one or none; with good, bad, missing or doubled regions;
// with wrong methods, bad JSON, garbage and large bodies, and ids of other accounts' resources.
//
// Every answer must be below 500, hold no stack trace, be JSON (or events) with nosniff when it
// comes from the console, never show a resource of an account other than the session's (an id is
// allowed only as an echo of the request), and give nothing but 401 without a live session.
// Requests that could change something are sent with a valid CSRF token only as the account that
// owns nothing, or the user allowed nothing: every table but the sessions' must end as it began.
// Reproduce with FUZZ_SEED=<seed> (printed); FUZZ_COUNT sets how many requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyPairCommand, CreateTagsCommand, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { createSnapshot, registerEbs } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne, simUserData, waitRunning } from '../support/instances.ts';
import { consoleFetch, consoleSignIn, type ConsoleSession } from '../support/console.ts';
import {
  chance, FUZZ_SEED as SEED, fuzzCount, int, pick, requestRng, sendRaw, STACK_TRACE, statusSummary, tableDigests, type RawAnswer, type Rng,
} from '../support/fuzz-raw-http.ts';
import { consoleViews } from '../../src/api/console/views/index.ts';
import { consoleStreams } from '../../src/api/console/streams/index.ts';

const COUNT = fuzzCount(2500);
const CONCURRENCY = 8;
const TIMEOUT_MS = 15_000;
/** A stream that is still open after this long is a live stream, not a hung request. */
const STREAM_WAIT_MS = 1500;

/** The account that owns nothing: its valid CSRF token is used for requests that would change things. */
const CAROL: TestAccount = { id: '333333333333', accessKeyId: 'AKIACAROL00000000003', secretAccessKey: 'carol-secret-key-000000000000000000000' };
/** Alice's user with no policy: allowed nothing, so every call on the console's data is refused. */
const NOBODY = { name: 'nobody', accessKeyId: 'AKIANOBODY0000000004', secretAccessKey: 'nobody-secret-key-00000000000000000000', policies: [] };

/** What the accounts own, made in before(): every id, and every text they hold (each starts with the account's marker). */
interface Owned { account: string; texts: string[]; ids: Record<string, string> }
const TEXTS = ['image', 'description', 'tag', 'key', 'console', 'kms', 'rule', 'parameter'];
const owned: Owned[] = [];

interface Identity { name: string; account?: string; session?: ConsoleSession; live: boolean }
let identities: Identity[] = [];
let server: RunningServer;

const markerOf = (account: string) => `SECRET-${account}`;

async function own(account: TestAccount): Promise<Owned> {
  const marker = markerOf(account.id);
  const creds = credentialsOf(account);
  const ec2 = ec2Client(server.endpoint, creds);
  const tags = [{ Key: 'owner', Value: `${marker}-tag` }];
  const imageId = await registerEbs(ec2, `${marker}-image`, { Description: `${marker}-description`, TagSpecifications: [{ ResourceType: 'image', Tags: tags }] });
  const snapshotId = await createSnapshot(ec2, 1);
  await ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: tags }));
  // Shared with the other test account only: CAROL and NOBODY must still not see it.
  await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [account.id === ALICE.id ? BOB.id : ALICE.id] }));
  const keyPair = await ec2.send(new CreateKeyPairCommand({ KeyName: `${marker}-key`, TagSpecifications: [{ ResourceType: 'key-pair', Tags: tags }] }));
  const instance = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData(`echo ${marker}-console`) });
  const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  const key = (await kms.send(new CreateKeyCommand({ Description: `${marker}-kms` }))).KeyMetadata!;
  await kms.send(new CreateAliasCommand({ AliasName: `alias/fuzz-${account.id}`, TargetKeyId: key.KeyId }));
  const rbin = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  const rule = await rbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' }, Description: `${marker}-rule` }));
  const ssm = new SSMClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  await ssm.send(new PutParameterCommand({ Name: '/fuzz/param', Value: `${marker}-parameter`, Type: 'String' }));
  await waitRunning(ec2, [instance.InstanceId!]);
  return {
    account: account.id, texts: TEXTS.map((t) => `${marker}-${t}`),
    ids: {
      image: imageId, snapshot: snapshotId, keyPair: keyPair.KeyPairId!, instance: instance.InstanceId!, volume: '',
      key: key.KeyId!, keyArn: key.Arn!, rule: rule.Identifier!, ruleArn: rule.RuleArn!,
      parameterArn: `arn:aws:ssm:us-east-1:${account.id}:parameter/fuzz/param`,
      build: `arn:aws:imagebuilder:us-east-1:${account.id}:image/fuzz/1.0.0/1`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Generating.

const GARBAGE_IDS = ['', 'x', 'ami-', 'ami-0123456789abcdef0', 'snap-ffffffffffffffff0', 'i-0000000000000000z', '%00', '\u0000', '..', '../session',
  '__proto__', 'constructor', '<script>alert(1)</script>', '"\'><img src=x onerror=alert(1)>', 'a'.repeat(5000), '😀', '%ZZ', 'null', '[]', '{}'];
const BAD_REGIONS = ['', 'mars-north-1', 'US-EAST-1', '__proto__', 'us-east-1\u0000', 'us-east-1, eu-west-1', '<svg onload=alert(1)>', 'a'.repeat(3000)];
const HOSTILE_NAMES = ['', 'nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '..', '..%2fsession', '%2e%2e', '%00', 'images%00', 'images/', 'x/y',
  '<script>', 'a'.repeat(2000), '%ZZ', 'IMAGES'];
const ASSET_PATHS = ['/console/assets/../../package.json', '/console/assets/..%2f..%2fpackage.json', '/console/assets/%2e%2e/%2e%2e/package.json',
  '/console/assets/%2e%2e%2f%2e%2e%2fsrc%2fcli%2fmain.ts', '/console/assets/..%5c..%5cpackage.json', '/console/assets/x%00.js', '/console/assets/%00',
  '/console/assets/..', '/console/assets/', '/console/../package.json', '/console/..%2f..%2fetc%2fpasswd', '/console/%2e%2e/%2e%2e/etc/passwd',
  '/console/assets/%c0%ae%c0%ae/package.json', '/console', '/console/', '/console/#/images', '/console/images?x=<script>', '/console/assets//etc/passwd',
  '/console/assets/..%252fpackage.json', `/console/${'a'.repeat(5000)}`, '/console/sessionx', '/console/datax/images', '/console/apix/ec2', '/console/api', '/console/data', '/console/stream?x=1'];

/** An id for a resource kind: another account's mostly, the caller's own sometimes, garbage otherwise. */
function idOf(r: Rng, kind: string): string {
  if (chance(r, 0.8)) return pick(r, owned).ids[kind] || pick(r, GARBAGE_IDS);
  return pick(r, GARBAGE_IDS);
}

type Fields = Record<string, string>;
/** EC2 actions: [action, fields, reads only]. */
function ec2Request(r: Rng): { fields: Fields; readOnly: boolean } {
  const image = () => idOf(r, 'image');
  const snapshot = () => idOf(r, 'snapshot');
  const instance = () => idOf(r, 'instance');
  const reads: (() => Fields)[] = [
    () => ({ Action: 'DescribeImages', 'ImageId.1': image() }),
    () => ({ Action: 'DescribeImages', 'Owner.1': pick(r, ['self', ALICE.id, BOB.id, CAROL.id, 'amazon', '<x>']) }),
    () => ({ Action: 'DescribeImages', 'Filter.1.Name': 'tag:owner', 'Filter.1.Value.1': '*' }),
    () => ({ Action: 'DescribeSnapshots', 'SnapshotId.1': snapshot() }),
    () => ({ Action: 'DescribeSnapshots', 'RestorableBy.1': pick(r, ['self', ALICE.id, BOB.id]) }),
    () => ({ Action: 'DescribeSnapshotAttribute', SnapshotId: snapshot(), Attribute: 'createVolumePermission' }),
    () => ({ Action: 'DescribeImageAttribute', ImageId: image(), Attribute: pick(r, ['launchPermission', 'description', 'x']) }),
    () => ({ Action: 'DescribeInstances', 'InstanceId.1': instance() }),
    () => ({ Action: 'DescribeInstances' }),
    () => ({ Action: 'GetConsoleOutput', InstanceId: instance() }),
    () => ({ Action: 'DescribeKeyPairs', 'KeyPairId.1': idOf(r, 'keyPair') }),
    () => ({ Action: 'DescribeKeyPairs' }),
    () => ({ Action: 'DescribeTags', 'Filter.1.Name': 'resource-id', 'Filter.1.Value.1': pick(r, [image(), snapshot(), instance()]) }),
    () => ({ Action: 'DescribeVolumes' }),
  ];
  const writes: (() => Fields)[] = [
    () => ({ Action: 'CreateTags', 'ResourceId.1': pick(r, [image(), snapshot(), instance()]), 'Tag.1.Key': 'fuzz', 'Tag.1.Value': 'x' }),
    () => ({ Action: 'DeleteTags', 'ResourceId.1': pick(r, [image(), snapshot(), instance()]) }),
    () => ({ Action: 'DeregisterImage', ImageId: image(), DeleteAssociatedSnapshots: 'true' }),
    () => ({ Action: 'ModifyImageAttribute', ImageId: image(), 'LaunchPermission.Add.1.Group': 'all' }),
    () => ({ Action: 'ModifyImageAttribute', ImageId: image(), 'Description.Value': 'fuzzed' }),
    () => ({ Action: 'ModifySnapshotAttribute', SnapshotId: snapshot(), Attribute: 'createVolumePermission', OperationType: 'add', 'UserId.1': CAROL.id }),
    () => ({ Action: 'DeleteSnapshot', SnapshotId: snapshot() }),
    () => ({ Action: pick(r, ['TerminateInstances', 'StopInstances', 'RebootInstances']), 'InstanceId.1': instance() }),
    () => ({ Action: 'DeleteKeyPair', KeyPairId: idOf(r, 'keyPair') }),
    () => ({ Action: 'CopyImage', SourceImageId: image(), SourceRegion: 'us-east-1', Name: 'fuzz-copy' }),
    () => ({ Action: 'CreateImage', InstanceId: instance(), Name: 'fuzz-image' }),
    () => ({ Action: 'RunInstances', ImageId: image(), MinCount: '1', MaxCount: '1', InstanceType: 't3.micro' }),
    () => ({ Action: pick(r, ['DisableImage', 'EnableImageDeregistrationProtection', 'DisableImageDeregistrationProtection']), ImageId: image() }),
    () => ({ Action: 'EnableImageDeprecation', ImageId: image(), DeprecateAt: '2030-01-01T00:00:00Z' }),
    () => ({ Action: 'CreateVolume', SnapshotId: snapshot(), AvailabilityZone: 'us-east-1a' }),
  ];
  const readOnly = chance(r, 0.5);
  return { fields: pick(r, readOnly ? reads : writes)(), readOnly };
}

interface Planned { method: string; path: string; body: string; contentType?: string; extraHeaders?: Fields; readOnly: boolean }

function kmsRequest(r: Rng): Planned {
  const keyId = () => pick(r, [idOf(r, 'key'), idOf(r, 'keyArn'), `alias/fuzz-${pick(r, owned).account}`, `arn:aws:kms:us-east-1:${pick(r, owned).account}:alias/fuzz-${pick(r, owned).account}`]);
  const reads: [string, () => unknown][] = [['ListKeys', () => ({})], ['ListAliases', () => ({})], ['DescribeKey', () => ({ KeyId: keyId() })],
    ['GetKeyPolicy', () => ({ KeyId: keyId(), PolicyName: 'default' })], ['ListGrants', () => ({ KeyId: keyId() })], ['ListResourceTags', () => ({ KeyId: keyId() })]];
  const writes: [string, () => unknown][] = [['ScheduleKeyDeletion', () => ({ KeyId: keyId(), PendingWindowInDays: 7 })], ['DisableKey', () => ({ KeyId: keyId() })],
    ['CreateGrant', () => ({ KeyId: keyId(), GranteePrincipal: `arn:aws:iam::${CAROL.id}:root`, Operations: ['Decrypt'] })],
    ['PutKeyPolicy', () => ({ KeyId: keyId(), PolicyName: 'default', Policy: '{"Version":"2012-10-17","Statement":[]}' })],
    ['TagResource', () => ({ KeyId: keyId(), Tags: [{ TagKey: 'fuzz', TagValue: 'x' }] })], ['Encrypt', () => ({ KeyId: keyId(), Plaintext: 'eA==' })],
    ['DeleteAlias', () => ({ AliasName: `alias/fuzz-${pick(r, owned).account}` })]];
  const readOnly = chance(r, 0.5);
  const [action, input] = pick(r, readOnly ? reads : writes);
  return { method: 'POST', path: '/console/api/kms', body: jsonBody(r, input()), contentType: 'application/x-amz-json-1.1', extraHeaders: { 'x-amz-target': `TrentService.${action}` }, readOnly };
}

function ssmRequest(r: Rng): Planned {
  const name = () => pick(r, ['/fuzz/param', idOf(r, 'parameterArn'), '/fuzz', '']);
  const reads: [string, () => unknown][] = [['GetParameter', () => ({ Name: name() })], ['GetParameters', () => ({ Names: [name(), name()] })],
    ['GetParametersByPath', () => ({ Path: '/fuzz', Recursive: true })], ['DescribeParameters', () => ({})], ['GetParameterHistory', () => ({ Name: name() })]];
  const writes: [string, () => unknown][] = [['DeleteParameter', () => ({ Name: name() })], ['DeleteParameters', () => ({ Names: [name()] })],
    ['AddTagsToResource', () => ({ ResourceType: 'Parameter', ResourceId: name(), Tags: [{ Key: 'fuzz', Value: 'x' }] })]];
  const readOnly = chance(r, 0.5);
  const [action, input] = pick(r, readOnly ? reads : writes);
  return { method: 'POST', path: '/console/api/ssm', body: jsonBody(r, input()), contentType: 'application/x-amz-json-1.1', extraHeaders: { 'x-amz-target': `AmazonSSM.${action}` }, readOnly };
}

function restRequest(r: Rng): Planned {
  const rule = () => encodeURIComponent(idOf(r, 'rule'));
  const arn = (kind: string) => encodeURIComponent(idOf(r, kind));
  const all: [string, () => string, boolean, () => unknown][] = [
    ['GET', () => `/console/api/rbin/rules/${rule()}`, true, () => undefined],
    ['POST', () => '/console/api/rbin/list-rules', true, () => ({ ResourceType: pick(r, ['EBS_SNAPSHOT', 'EC2_IMAGE', 'x']) })],
    ['GET', () => `/console/api/rbin/tags/${arn('ruleArn')}`, true, () => undefined],
    ['DELETE', () => `/console/api/rbin/rules/${rule()}`, false, () => undefined],
    ['PATCH', () => `/console/api/rbin/rules/${rule()}`, false, () => ({ Description: 'fuzzed' })],
    ['PATCH', () => `/console/api/rbin/rules/${rule()}/lock`, false, () => ({ LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } })],
    ['POST', () => `/console/api/rbin/tags/${arn('ruleArn')}`, false, () => ({ Tags: [{ Key: 'fuzz', Value: 'x' }] })],
    ['DELETE', () => `/console/api/rbin/tags/${arn('ruleArn')}?tagKeys=owner`, false, () => undefined],
    ['GET', () => `/console/api/imagebuilder/GetImage?imageBuildVersionArn=${arn('build')}`, true, () => undefined],
    ['GET', () => '/console/api/imagebuilder/ListImages', true, () => undefined],
    ['DELETE', () => `/console/api/imagebuilder/DeleteImage?imageBuildVersionArn=${arn('build')}`, false, () => undefined],
    ['PUT', () => '/console/api/imagebuilder/CancelImageCreation', false, () => ({ imageBuildVersionArn: idOf(r, 'build'), clientToken: 'fuzz' })],
  ];
  const [method, path, readOnly, body] = pick(r, all);
  const b = body();
  return { method, path: path(), body: b === undefined && chance(r, 0.8) ? '' : jsonBody(r, b ?? {}), contentType: 'application/json', readOnly };
}

/** A JSON body near the operation's input most of the time; broken, huge, nested or not JSON otherwise. */
function jsonBody(r: Rng, input: unknown): string {
  const text = JSON.stringify(input);
  switch (int(r, 0, 12)) {
    case 0: return text.slice(0, int(r, 0, text.length));
    case 1: return `${'['.repeat(int(r, 100, 20_000))}1`;
    case 2: return pick(r, ['null', '[]', '1', '"x"', 'true', '{', '}', '{"a":', '\u0000', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}']);
    case 3: return Buffer.from(Array.from({ length: int(r, 0, 500) }, () => int(r, 0, 255))).toString('latin1');
    case 4: return JSON.stringify({ ...(input as object), Padding: 'p'.repeat(int(r, 100_000, 2_000_000)) });
    default: return text;
  }
}

/** Paging cursors a client could forge: another account's image as the place to start, broken JSON, wrong types. */
const CURSORS = ['eyJ9', Buffer.from('{"v":"x","i":"ami-0123456789abcdef0","s":"name","d":false}').toString('base64url'),
  Buffer.from('{"v":{"$gt":""},"i":[],"s":"x","d":"y"}').toString('base64url'), Buffer.from('{"__proto__":{"polluted":1}}').toString('base64url'), '!!!'];

function viewRequest(r: Rng): Planned {
  const names = [...Object.keys(consoleViews), ...Object.keys(consoleViews), ...HOSTILE_NAMES];
  const name = pick(r, names);
  const view = Object.hasOwn(consoleViews, name) ? consoleViews[name] : undefined;
  const params = new URLSearchParams();
  for (let i = 0, n = int(r, 0, 4); i < n; i++) {
    const [key, kind] = pick(r, [['imageId', 'image'], ['instanceId', 'instance'], ['snapshotId', 'snapshot'], ['keyId', 'key'], ['keyPairId', 'keyPair'],
      ['ruleId', 'rule'], ['arn', 'build'], ['account', ''], ['owner', ''], ['view', ''], ['sort', ''], ['order', ''], ['filter', ''], ['nextToken', ''],
      ['pageSize', ''], ['limit', ''], ['allRegions', ''], ['__proto__', ''], ['name', ''], ['tag', ''], ['architecture', ''], ['platform', ''],
      ['cursor', '']] as const);
    params.append(key, kind ? idOf(r, kind) : pick(r, [...GARBAGE_IDS, ...CURSORS, 'owned', 'private', 'shared', 'public', 'disabled', 'deprecated', 'recycle-bin',
      'name', 'creationDate', 'desc', 'asc', '1', '-1', '1e9', '%', '_', '*', "' OR 1=1 --", ALICE.id, BOB.id, 'self', `${markerOf(BOB.id)}-ima`]));
  }
  const method = view && chance(r, 0.85) ? view.method : pick(r, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
  const snapshots = Array.from({ length: int(r, 0, 3) }, () => idOf(r, 'snapshot'));
  const body = method === 'GET' ? '' : jsonBody(r, { snapshotIds: snapshots, imageId: idOf(r, 'image'), instanceIds: [idOf(r, 'instance')] });
  const encoded = /^[\w-]+$/.test(name) ? name : encodeURIComponent(name);
  return { method, path: `/console/data/${chance(r, 0.9) ? encoded : name}${params.size ? `?${params}` : ''}`, body, contentType: 'application/json', readOnly: method === 'GET' };
}

function streamRequest(r: Rng): Planned {
  const name = pick(r, [...Object.keys(consoleStreams), ...Object.keys(consoleStreams), ...HOSTILE_NAMES]);
  const params = new URLSearchParams();
  if (chance(r, 0.8)) params.set('region', chance(r, 0.85) ? 'us-east-1' : pick(r, BAD_REGIONS));
  if (chance(r, 0.8)) params.set('instanceId', idOf(r, 'instance'));
  if (chance(r, 0.8)) params.set('ids', Array.from({ length: chance(r, 0.05) ? 150 : int(r, 1, 3) }, () => idOf(r, pick(r, ['snapshot', 'image', 'build']))).join(','));
  const method = chance(r, 0.85) ? 'GET' : pick(r, ['POST', 'DELETE', 'PUT', 'HEAD']);
  return { method, path: `/console/stream/${encodeURIComponent(name)}?${params}`, body: '', readOnly: method === 'GET' || method === 'HEAD' };
}

function sessionRequest(r: Rng): Planned {
  const method = pick(r, ['GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH']);
  const keys = pick(r, [
    { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'wrong' }, { accessKeyId: 'AKIANOBODYATALL00000', secretAccessKey: ALICE.secretAccessKey },
    { accessKeyId: CAROL.accessKeyId, secretAccessKey: CAROL.secretAccessKey }, { accessKeyId: { toString: 1 }, secretAccessKey: [] }, { account: ALICE.id }, {},
  ]);
  return { method, path: '/console/session', body: method === 'GET' ? '' : jsonBody(r, keys), contentType: chance(r, 0.8) ? 'application/json' : 'text/plain', readOnly: method !== 'DELETE' };
}

function assetRequest(r: Rng): Planned {
  return { method: chance(r, 0.9) ? 'GET' : pick(r, ['HEAD', 'POST', 'DELETE']), path: pick(r, ASSET_PATHS), body: '', readOnly: true };
}

function plan(r: Rng): Planned {
  switch (int(r, 0, 9)) {
    case 0: case 1: {
      const { fields, readOnly } = ec2Request(r);
      const form = new URLSearchParams(fields).toString();
      const body = chance(r, 0.1) ? jsonBody(r, fields) : form;
      return { method: chance(r, 0.9) ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE']), path: chance(r, 0.95) ? '/console/api/ec2' : pick(r, ['/console/api/ec2/x', '/console/api/EC2', '/console/api/', '/console/api/nope', '/console/api/__proto__']), body, contentType: 'application/x-www-form-urlencoded', readOnly };
    }
    case 2: return kmsRequest(r);
    case 3: return ssmRequest(r);
    case 4: return restRequest(r);
    case 5: case 6: return viewRequest(r);
    case 7: return streamRequest(r);
    case 8: return sessionRequest(r);
    default: return assetRequest(r);
  }
}

interface FuzzRequest { head: string; body: Buffer; label: string; who: Identity; path: string; stream: boolean; sent: string }

function generate(index: number): FuzzRequest {
  const r = requestRng(SEED, index);
  const p = plan(r);
  const who = pick(r, identities);
  const headers: Fields = { host: `127.0.0.1:${server.port}`, ...p.extraHeaders };
  if (p.contentType && p.body) headers['content-type'] = p.contentType;
  if (who.session) headers.cookie = who.session.cookie;
  else if (who.name === 'fixated') headers.cookie = 'amiforge_console=fixated-by-an-attacker-00000000000000000000000';
  else if (who.name === 'garbage') headers.cookie = pick(r, ['amiforge_console', 'amiforge_console=', '=;=;;', `amiforge_console=${'a'.repeat(4000)}`, 'amiforge_console=%00%ff', 'x=1; amiforge_console="quoted"']);
  // The session's own token, except on a request that could change something the caller owns.
  const mayChange = !p.readOnly || p.path === '/console/session';
  const ownerSafe = who.name === 'carol' || who.name === 'nobody';
  const tokens = [undefined, '', 'wrong-token', ...identities.filter((i) => i.session && i !== who).map((i) => i.session!.csrfToken)];
  const csrf = who.session && (!mayChange || (ownerSafe && p.path !== '/console/session')) && chance(r, 0.8) ? who.session.csrfToken : pick(r, tokens);
  if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  const region = chance(r, 0.85) ? pick(r, ['us-east-1', 'us-east-1', 'eu-west-1']) : pick(r, BAD_REGIONS);
  if (region || chance(r, 0.5)) headers['x-amiforge-region'] = region;
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  // A second cookie header after the session's own: the first one counts (node joins them with '; ').
  if (who.session && chance(r, 0.05)) lines.push('x-amiforge-region: eu-west-1', `cookie: ${identities.find((i) => i.session && i !== who)?.session?.cookie ?? 'x=1'}`);
  const body = Buffer.from(p.body, chance(r, 0.95) ? 'utf8' : 'latin1');
  lines.push(`content-length: ${body.length}`, 'connection: close');
  const head = `${p.method} ${p.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  return {
    head, body, who, path: p.path, stream: p.path.startsWith('/console/stream/'), sent: head + p.body,
    label: `#${index} ${p.method} ${JSON.stringify(p.path.slice(0, 100))} as ${who.name} csrf ${csrf === who.session?.csrfToken ? 'own' : JSON.stringify(csrf?.slice(0, 8))} body ${JSON.stringify(p.body.slice(0, 80))}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Judging.

interface Verdict { status?: number; problem?: string }

function judge(req: FuzzRequest, answer: RawAnswer): Verdict {
  const raw = answer.bytes.toString('utf8');
  const split = raw.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
  if (split < 0 || !status) return { problem: `no HTTP answer (${answer.timedOut ? 'timed out' : answer.error ?? 'closed'}): ${JSON.stringify(raw.slice(0, 200))}` };
  const head = raw.slice(0, split).toLowerCase();
  const body = raw.slice(split + 4);
  const type = /\r\ncontent-type: ([^\r]*)/.exec(head)?.[1] ?? '';
  // EC2's XML only from the HTTP layer, for a request it could not read (a NUL in a header).
  const refusedByHttp = (status === 400 || status === 431) && type.startsWith('text/xml');
  // A live stream (the caller's own instance) is still open when the wait ends: that is its nature.
  if (answer.timedOut && !(req.stream && status === 200 && type === 'text/event-stream')) return { status, problem: 'no complete answer in time' };
  if (status >= 500) return { status, problem: `HTTP ${status}: ${body.slice(0, 300)}` };
  if (STACK_TRACE.test(body)) return { status, problem: `a stack trace or path: ${body.slice(0, 300)}` };
  if (/json|html|event-stream/.test(type) && !/\r\nx-content-type-options: nosniff/.test(head)) return { status, problem: `${type} without nosniff` };
  const consoleRoute = /^\/console\/(session|api|data|stream)(\/|$|\?)/.test(req.path);
  if (consoleRoute && !refusedByHttp && !/^application\/(json|x-amz-json-1\.1)|^text\/event-stream/.test(type)) return { status, problem: `content-type ${type}` };
  if (/"devDependencies"|root:x:0:|"name": ?"amiforge"/.test(body)) return { status, problem: 'a file outside the bundle' };
  const dataRoute = /^\/console\/(api\/|data\/|stream\/)/.test(req.path);
  if (dataRoute && !req.who.live && !refusedByHttp && status !== 401 && status !== 404) return { status, problem: `HTTP ${status} without a live session: ${body.slice(0, 200)}` };
  // Another account's resources: its markers never, its ids only as an echo of the request.
  const own = req.who.name === 'nobody' ? undefined : req.who.account;
  for (const o of owned) {
    if (o.account === own) continue;
    if (o.texts.some((text) => body.includes(text))) return { status, problem: `shows ${o.account}'s data to ${req.who.name}: ${body.slice(0, 300)}` };
    const id = Object.entries(o.ids).find(([kind, v]) => v && body.includes(v) && !echoes(req, v) && !(kind === 'snapshot' && sharedWith(o, req.who))
      && !(kind.startsWith('key') && aliasNamed(req, o)))?.[1];
    if (id) return { status, problem: `names ${o.account}'s ${id} to ${req.who.name}: ${body.slice(0, 300)}` };
  }
  return { status };
}

/** Whether the request named the id itself (percent-encoded, or as an ARN's last part): an error may echo it. */
function echoes(req: FuzzRequest, id: string): boolean {
  const sent = [req.sent, safeDecode(req.sent)];
  const tail = id.startsWith('arn:') ? id.split(/[/:]/).pop()! : id;
  return sent.some((s) => s.includes(id) || s.includes(tail));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Whether the request named the account's alias by ARN: KMS lets other accounts use a key by its
 * alias ARN, and its AccessDeniedException names the key behind it, as AWS's does.
 */
const aliasNamed = (req: FuzzRequest, o: Owned): boolean => safeDecode(req.sent).includes(`:${o.account}:alias/`);

/** Alice's and Bob's snapshots are shared with each other (and with no one else, users included). */
const sharedWith = (o: Owned, who: Identity): boolean => who.name === 'alice' || who.name === 'bob' ? who.account !== o.account : false;

/** Every table's rows but the sessions' (signing in adds one); the node's own bookkeeping is left out by tableDigests. */
function storeState(): Record<string, string> {
  const { console_sessions: _sessions, ...rest } = tableDigests(server.dataDir);
  return rest;
}

before(async () => {
  server = await startServer({ accounts: [{ ...ALICE, users: [NOBODY] }, BOB, CAROL] });
  owned.push(await own(ALICE), await own(BOB));
  const signIn = async (keys: { accessKeyId: string; secretAccessKey: string }) => (await consoleSignIn(server.endpoint, keys)).session!;
  const revoked = await signIn(credentialsOf(ALICE));
  await consoleFetch(server.endpoint, revoked, 'DELETE', '/console/session');
  identities = [
    { name: 'alice', account: ALICE.id, session: await signIn(credentialsOf(ALICE)), live: true },
    { name: 'bob', account: BOB.id, session: await signIn(credentialsOf(BOB)), live: true },
    { name: 'carol', account: CAROL.id, session: await signIn(credentialsOf(CAROL)), live: true },
    { name: 'nobody', account: ALICE.id, session: await signIn(NOBODY), live: true },
    { name: 'signed-out', account: ALICE.id, session: revoked, live: false },
    { name: 'fixated', live: false }, { name: 'garbage', live: false }, { name: 'anonymous', live: false },
  ];
});

after(async () => {
  await server?.stop();
});

test(`fuzz: hostile requests to every console route (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (reproduce with FUZZ_SEED=${SEED}); views ${Object.keys(consoleViews).join(',') || 'none'}; streams ${Object.keys(consoleStreams).join(',')}`);
  const before = storeState();
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const req = generate(next++);
      const verdict = judge(req, await sendRaw(server.port, req, req.stream ? STREAM_WAIT_MS : TIMEOUT_MS));
      if (verdict.status) statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
      if (verdict.problem) failures.push(`${req.label}: ${verdict.problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.diagnostic(`statuses: ${statusSummary(statuses)}`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers (FUZZ_SEED=${SEED})`);
  assert.ok((statuses.get(200) ?? 0) > COUNT / 20, 'some requests reached the success paths');
  assert.equal(server.process.exitCode, null, 'the server process exited');
  const errors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} error-level log entries`);
  assert.deepEqual(storeState(), before, 'the store changed: a request that should have been refused changed something');
});
