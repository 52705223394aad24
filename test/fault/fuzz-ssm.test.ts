// Fuzz: garbled Systems Manager (AWS JSON 1.1) requests against one dev-mode server, over raw
// TCP: every SSM operation's target (and unknown ones), bodies near valid ones with garbled
// names, selectors, paths, filters, labels, tags, tokens and values, and bodies that are
// truncated, not objects, deeply nested, of wrong types, huge, or full of prototype keys.
//
// Every answer must be below 500, carry a request id, hold no stack trace and (for an error) be
// the JSON error envelope. Requests that could change something are signed as a third account:
// MAIN's and SECOND's parameters must end exactly as they were, a 2xx must never name another
// account's parameter or show its values, SecureString values never appear in the log, and the
// server's log must hold no errors. Reproduce with FUZZ_SEED=<seed>; FUZZ_COUNT sets how many.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeParametersCommand, GetParameterHistoryCommand, ListTagsForResourceCommand, PutParameterCommand, AddTagsToResourceCommand,
  LabelParameterVersionCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { devCredentials } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import {
  chance, FUZZ_SEED as SEED, fuzzCount, fuzzRestJsonService, int, judgeRestJson, MAIN, pick, requestRng, SECOND, signedHead, tableDigests, THIRD,
  type RawAnswer, type RestJsonRequest, type Rng, type Verdict,
} from '../support/fuzz-raw-http.ts';
import { ssmModel } from '../../src/api/ssm/dispatcher.ts';

const COUNT = fuzzCount(1500);
let server: RunningServer;

/** Each account's parameters: names and values the others must never see. */
const OWNED = [MAIN, SECOND, THIRD].flatMap((account) => [
  { account, name: `/fz${account}/app/one`, value: `plain-${account}-v`, type: 'String' as const },
  { account, name: `/fz${account}/app/deep/two`, value: `list-${account}-a,b`, type: 'StringList' as const },
  { account, name: `fz${account}-secret`, value: `secret-${account}-9d2c`, type: 'SecureString' as const },
]);
const OPERATIONS = Object.keys(ssmModel.operations);
const PARAMETER_OPERATIONS = ['PutParameter', 'GetParameter', 'GetParameters', 'GetParametersByPath', 'DescribeParameters', 'DeleteParameter',
  'DeleteParameters', 'GetParameterHistory', 'LabelParameterVersion', 'UnlabelParameterVersion', 'AddTagsToResource', 'RemoveTagsFromResource',
  'ListTagsForResource'];
const READ_ONLY = new Set(['GetParameter', 'GetParameters', 'GetParametersByPath', 'DescribeParameters', 'GetParameterHistory', 'ListTagsForResource']);

const STRINGS = (): unknown[] => ['', 'x', 'a'.repeat(70_000), '\u0000', '\uD800', '😀'.repeat(200), '<x/>', '${jndi:x}', '../../etc/passwd',
  '/', '//', '/a//b', '/aws', '/aws/service', '/ssm/x', 'name:1', 'name:', ':', 'n:label:2', '/x:99999999999999999999', '__proto__'];
const NUMBERS = [0, -1, 1, 2, 10, 11, 51, 1e308, -1e308, 2 ** 53, 0.5];
const PUBLIC = ['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', '/aws/service/canonical/ubuntu', '/aws/service/debian/release/12/latest/amd64', '/aws/'];

function name(r: Rng, account: string): string {
  const own = OWNED.filter((p) => p.account === account);
  // Never another account's name in a body: an error message would echo it back.
  switch (int(r, 0, 4)) {
    case 0: return pick(r, own).name;
    case 1: return `${pick(r, own).name}${pick(r, [':1', ':2', ':prod', ':0', ':x', ':'])}`;
    case 2: return pick(r, PUBLIC);
    case 3: return String(pick(r, STRINGS()));
    default: return `/fuzz/${int(r, 0, 5)}/${'l/'.repeat(int(r, 0, 18))}p`;
  }
}

function value(r: Rng, account: string, depth = 0): unknown {
  switch (int(r, 0, 7)) {
    case 0: return pick(r, STRINGS());
    case 1: return pick(r, NUMBERS);
    case 2: return pick(r, [true, false, null]);
    case 3: return depth > 3 ? [] : Array.from({ length: int(r, 0, 4) }, () => value(r, account, depth + 1));
    case 4: return depth > 3 ? {} : object(r, account, depth + 1);
    case 5: return pick(r, ['String', 'StringList', 'SecureString', 'Standard', 'Advanced', 'text', 'aws:ec2:image', 'Parameter', 'Equals', 'Recursive']);
    default: return name(r, account);
  }
}

const KEYS = ['Name', 'Names', 'Value', 'Type', 'Overwrite', 'KeyId', 'DataType', 'Tier', 'Description', 'AllowedPattern', 'Tags', 'Key', 'Values',
  'Path', 'Recursive', 'WithDecryption', 'ParameterFilters', 'Filters', 'Option', 'MaxResults', 'NextToken', 'Labels', 'ParameterVersion',
  'ResourceType', 'ResourceId', 'TagKeys', 'Policies', '__proto__', 'constructor', 'prototype', '', 'x'.repeat(300)];

function object(r: Rng, account: string, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0, n = int(r, 0, 5); i < n; i++) {
    Object.defineProperty(o, pick(r, KEYS), { value: value(r, account, depth), enumerable: true, configurable: true, writable: true });
  }
  return o;
}

function body(r: Rng, account: string): string {
  const wellFormed: Record<string, unknown> = {
    Name: name(r, account),
    ...(chance(r, 0.4) ? { Names: Array.from({ length: int(r, 0, 12) }, () => name(r, account)) } : {}),
    ...(chance(r, 0.5) ? { Value: chance(r, 0.7) ? pick(r, ['v', 'ami-0dd4dbe59a8675ce3', 'ami-0123456789abcdef0', 'a,b']) : pick(r, STRINGS()) } : {}),
    ...(chance(r, 0.5) ? { Type: pick(r, ['String', 'StringList', 'SecureString', 'x']) } : {}),
    ...(chance(r, 0.3) ? { Overwrite: pick(r, [true, false, 'yes']) } : {}),
    ...(chance(r, 0.2) ? { KeyId: pick(r, ['alias/aws/ssm', 'alias/nope', '00000000-0000-4000-8000-000000000000', 'arn:aws:kms:us-east-1:123456789012:alias/aws/ssm', '']) } : {}),
    ...(chance(r, 0.2) ? { DataType: pick(r, ['text', 'aws:ec2:image', 'AWS:EC2:IMAGE', '']) } : {}),
    ...(chance(r, 0.2) ? { AllowedPattern: pick(r, ['^\\d+$', '(', '.*', '[', '\\p{L}+', '']) } : {}),
    ...(chance(r, 0.3) ? { Path: pick(r, ['/', `/fz${account}`, `/fz${account}/app`, '/aws/service', '/aws/service/canonical', 'nopath', '//', '/a//b']) } : {}),
    ...(chance(r, 0.3) ? { Recursive: pick(r, [true, false]), WithDecryption: pick(r, [true, false]) } : {}),
    ...(chance(r, 0.3) ? { ParameterFilters: [{ Key: pick(r, ['Name', 'Path', 'Type', 'KeyId', 'Label', 'Tier', 'DataType', 'tag:owner', 'tag:', 'Bad']),
      Option: pick(r, ['Equals', 'BeginsWith', 'Contains', 'Recursive', 'OneLevel', 'x', undefined]), Values: [String(value(r, account))] }] } : {}),
    ...(chance(r, 0.2) ? { Filters: [{ Key: pick(r, ['Name', 'Type', 'KeyId', 'x']), Values: [String(pick(r, STRINGS()))] }] } : {}),
    ...(chance(r, 0.3) ? { MaxResults: pick(r, NUMBERS), NextToken: pick(r, ['', 'garbage', 'eyJhZnRlciI6Ii9hIn0=', 'eyJhZnRlciI6MX0=', 'a'.repeat(5000)]) } : {}),
    ...(chance(r, 0.3) ? { Labels: Array.from({ length: int(r, 0, 12) }, () => pick(r, ['prod', 'l1', '1x', 'aws-x', 'ok.label', 'x'.repeat(101)])), ParameterVersion: pick(r, NUMBERS) } : {}),
    ...(chance(r, 0.3) ? { ResourceType: pick(r, ['Parameter', 'Document', 'x']), ResourceId: name(r, account), TagKeys: ['owner', 'k'] } : {}),
    ...(chance(r, 0.3) ? { Tags: Array.from({ length: chance(r, 0.1) ? 60 : int(r, 0, 3) }, (_, i) => ({ Key: `k${i}`, Value: String(pick(r, STRINGS())) })) } : {}),
    ...(chance(r, 0.2) ? object(r, account) : {}),
  };
  const text = JSON.stringify(chance(r, 0.7) ? wellFormed : value(r, account));
  switch (int(r, 0, 9)) {
    case 0: return text.slice(0, int(r, 0, text.length));
    case 1: return `${'['.repeat(int(r, 100, 20_000))}1`;
    case 2: return pick(r, ['null', '[]', '1', '"x"', 'true', '{', '}', '{"Name":', '\u0000', '{"__proto__":{"polluted":1}}', '{"Name":{"__proto__":null}}']);
    case 3: return Buffer.from(Array.from({ length: int(r, 0, 500) }, () => int(r, 0, 255))).toString('latin1');
    default: return text;
  }
}

async function generate(index: number): Promise<RestJsonRequest> {
  const r = requestRng(SEED, index);
  const operation = chance(r, 0.85) ? pick(r, PARAMETER_OPERATIONS) : chance(r, 0.7) ? pick(r, OPERATIONS) : pick(r, ['', 'Nope', 'getParameter', '__proto__']);
  const target = chance(r, 0.95) ? `AmazonSSM.${operation}` : pick(r, ['', 'AmazonSSM', 'TrentService.GetParameter', `amazonssm.${operation}`]);
  // Only the read-only operations are signed by MAIN or SECOND; anything that could change something by THIRD.
  const account = READ_ONLY.has(operation) && target === `AmazonSSM.${operation}` ? pick(r, [MAIN, SECOND, THIRD]) : THIRD;
  const text = body(r, account);
  const payload = Buffer.from(text, chance(r, 0.9) ? 'utf8' : 'latin1');
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}`, 'x-amz-target': target };
  const type = chance(r, 0.85) ? 'application/x-amz-json-1.1' : pick(r, ['', 'text/plain', 'application/json', 'application/x-www-form-urlencoded']);
  if (type) headers['content-type'] = type;
  const method = chance(r, 0.95) ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE']);
  return {
    head: await signedHead({ port: server.port, service: 'ssm', account, method, path: chance(r, 0.95) ? '/' : pick(r, ['/x', '/?a=b', '//']), headers, body: payload }),
    body: payload, account, label: `#${index} ${target} as ${account} body ${JSON.stringify(text.slice(0, 80))}`,
  };
}

function judge(req: RestJsonRequest, answer: RawAnswer): Verdict {
  return judgeRestJson(answer, {
    envelope: 'the JSON 1.1',
    leak: (text) => {
      const other = OWNED.find((p) => p.account !== req.account && (text.includes(p.name) || text.includes(p.value)));
      return other && `shows ${other.account}'s parameter ${other.name}`;
    },
  });
}

function ssm(account: string): SSMClient {
  return new SSMClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(account), maxAttempts: 1 });
}

async function apiState(): Promise<unknown> {
  const state: Record<string, unknown> = {};
  for (const account of [MAIN, SECOND]) {
    const c = ssm(account);
    for (const p of (await c.send(new DescribeParametersCommand({ MaxResults: 50 }))).Parameters ?? []) {
      const history = (await c.send(new GetParameterHistoryCommand({ Name: p.Name, WithDecryption: true }))).Parameters;
      const tags = (await c.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: p.Name }))).TagList;
      state[`${account}/${p.Name}`] = { history, tags };
    }
  }
  return state;
}

before(async () => {
  server = await startServer();
  // THIRD's own parameters (and its alias/aws/ssm key, made by its first SecureString) let some
  // of its changes succeed, so that those paths are fuzzed too.
  for (const p of OWNED) {
    const c = ssm(p.account);
    await c.send(new PutParameterCommand({ Name: p.name, Value: p.value, Type: p.type, Tags: [{ Key: 'owner', Value: p.account }] }));
    await c.send(new PutParameterCommand({ Name: p.name, Value: p.value, Overwrite: true }));
    await c.send(new LabelParameterVersionCommand({ Name: p.name, ParameterVersion: 1, Labels: ['prod'] }));
    await c.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: p.name, Tags: [{ Key: 'k', Value: 'v' }] }));
  }
});

after(async () => {
  await server?.stop();
});

test(`fuzz: garbled Systems Manager requests (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  await fuzzRestJsonService(t, {
    server, seed: SEED, count: COUNT, generate, judge, apiState,
    storeState: () => tableDigests(server.dataDir, { account: THIRD, tables: ['ssm_parameters'] }),
    storeChanged: 'the store changed outside the third account\'s parameters', apiChanged: 'MAIN\'s or SECOND\'s parameters changed',
  });
  const log = JSON.stringify(server.logs);
  for (const p of OWNED.filter((x) => x.type === 'SecureString')) assert.ok(!log.includes(p.value), `the log shows ${p.account}'s SecureString value`);
});
