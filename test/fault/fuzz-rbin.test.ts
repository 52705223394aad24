// Fuzz: garbled Recycle Bin (rbin, rest-json) requests against one dev-mode server, over raw TCP:
// every operation's route with wrong methods, garbled and huge path segments (rule ids, ARNs,
// percent-encoding garbage), garbled query strings, and bodies that are truncated, not objects,
// deeply nested, of wrong types, huge, or full of prototype keys.
//
// Every answer must be below 500, carry a request id, and (for an error) be rbin's JSON error
// envelope, with no stack trace. rbin has no DryRun, so requests that could change something are
// signed as a third account: MAIN's and SECOND's rules must end exactly as they were, a 2xx to
// one account must never name another's rule, and the server's log must hold no errors.
// Reproduce with FUZZ_SEED=<seed> (printed); FUZZ_COUNT sets how many requests.
import { after, before, test } from 'node:test';
import {
  CreateRuleCommand, GetRuleCommand, ListRulesCommand, ListTagsForResourceCommand, LockRuleCommand, RbinClient,
} from '@aws-sdk/client-rbin';
import { devCredentials } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import {
  chance, FUZZ_SEED as SEED, fuzzCount, fuzzRestJsonService, int, judgeRestJson, MAIN, pick, requestRng, SECOND, signedHead, tableDigests, THIRD,
  type RawAnswer, type RestJsonRequest, type Rng, type Verdict,
} from '../support/fuzz-raw-http.ts';

const COUNT = fuzzCount(1500);

let server: RunningServer;
/** Rules made in before(): their ids and ARNs, by owner (MAIN's second one is locked). */
const rules: { account: string; id: string; arn: string }[] = [];

const ROUTES: [string, (id: string, arn: string) => string][] = [
  ['POST', () => '/rules'], ['GET', (id) => `/rules/${id}`], ['PATCH', (id) => `/rules/${id}`], ['DELETE', (id) => `/rules/${id}`],
  ['POST', () => '/list-rules'], ['PATCH', (id) => `/rules/${id}/lock`], ['PATCH', (id) => `/rules/${id}/unlock`],
  ['GET', (_, arn) => `/tags/${arn}`], ['POST', (_, arn) => `/tags/${arn}`], ['DELETE', (_, arn) => `/tags/${arn}`],
];
const GARBAGE_SEGMENTS = ['', '.', '..', '%2F', '%2e%2e', '%ZZ', '%', '%00', '%C0%AF', '%FF', 'a'.repeat(5000), '%E2%82', 'abcdefghijk',
  '00000000000', '__proto__', 'constructor', 'toString', encodeURIComponent('ü😀'), 'rules', '*', '%20'];
const ODD_PATHS = ['/', '//', '/rules/', '/rules//lock', '/list-rules/', '/tags', '/tags/', '/RULES', '/rules/x/y/z', '/rules/%2F/lock',
  `/${'r'.repeat(9000)}`, '/list-rules?', '/tags/arn:aws:rbin:us-east-1:123456789012:rule/'];
const STRINGS = (): unknown[] => ['', 'x', 'a'.repeat(70_000), '\u0000', '\uD800', '😀'.repeat(200), '<x/>', '${jndi:x}', '../../etc/passwd'];
const NUMBERS = [0, -1, 1, 7, 365, 366, 3651, 1e308, -1e308, 2 ** 53, 0.5, Number.MAX_SAFE_INTEGER];

function value(r: Rng, depth = 0): unknown {
  switch (int(r, 0, 7)) {
    case 0: return pick(r, STRINGS());
    case 1: return pick(r, NUMBERS);
    case 2: return pick(r, [true, false, null]);
    case 3: return depth > 3 ? [] : Array.from({ length: int(r, 0, 4) }, () => value(r, depth + 1));
    case 4: return depth > 3 ? {} : object(r, depth + 1);
    case 5: return pick(r, ['DAYS', 'EBS_SNAPSHOT', 'EC2_IMAGE', 'locked', 'unlocked', 'pending_unlock', 'available']);
    // Never another account's rule id in a body: a rule's description would echo it back.
    default: return pick(r, ['abcdefghijk', '00000000000', 'ZZZZZZZZZZZ']);
  }
}

const KEYS = ['ResourceType', 'RetentionPeriod', 'RetentionPeriodValue', 'RetentionPeriodUnit', 'Description', 'Tags', 'Key', 'Value',
  'ResourceTags', 'ResourceTagKey', 'ResourceTagValue', 'ExcludeResourceTags', 'LockConfiguration', 'UnlockDelay', 'UnlockDelayValue',
  'UnlockDelayUnit', 'MaxResults', 'NextToken', 'LockState', 'Identifier', '__proto__', 'constructor', 'prototype', '', 'x'.repeat(300)];

function object(r: Rng, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0, n = int(r, 0, 5); i < n; i++) Object.defineProperty(o, pick(r, KEYS), { value: value(r, depth), enumerable: true, configurable: true, writable: true });
  return o;
}

/** A body that is near a valid one for the operation most of the time, garbage otherwise. */
function body(r: Rng, method: string): string {
  if (method === 'GET' && chance(r, 0.8)) return '';
  const wellFormed = {
    ResourceType: chance(r, 0.8) ? pick(r, ['EBS_SNAPSHOT', 'EC2_IMAGE']) : pick(r, ['x', '']),
    RetentionPeriod: { RetentionPeriodValue: chance(r, 0.7) ? 7 : pick(r, NUMBERS), RetentionPeriodUnit: chance(r, 0.8) ? 'DAYS' : pick(r, ['HOURS', '']) },
    ...(chance(r, 0.3) ? { ResourceTags: [{ ResourceTagKey: pick(r, STRINGS()), ResourceTagValue: pick(r, STRINGS()) }] } : {}),
    ...(chance(r, 0.3) ? { Tags: Array.from({ length: chance(r, 0.1) ? 250 : int(r, 0, 3) }, (_, i) => ({ Key: `k${i}`, Value: pick(r, STRINGS()) })) } : {}),
    ...(chance(r, 0.3) ? { LockConfiguration: { UnlockDelay: { UnlockDelayValue: pick(r, NUMBERS), UnlockDelayUnit: pick(r, ['DAYS', 'x']) } } } : {}),
    ...(chance(r, 0.3) ? { MaxResults: pick(r, NUMBERS), NextToken: pick(r, ['', 'garbage', 'eyJrIjoxfQ', 'a'.repeat(5000)]) } : {}),
    ...(chance(r, 0.3) ? object(r) : {}),
  };
  const text = JSON.stringify(chance(r, 0.6) ? wellFormed : value(r));
  switch (int(r, 0, 9)) {
    case 0: return text.slice(0, int(r, 0, text.length));
    case 1: return `${'['.repeat(int(r, 100, 20_000))}1`;
    case 2: return pick(r, ['null', '[]', '1', '"x"', 'true', '{', '}', '{"a":', '\u0000', '{"__proto__":{"polluted":1}}', '{"RetentionPeriod":{"__proto__":null}}']);
    case 3: return Buffer.from(Array.from({ length: int(r, 0, 500) }, () => int(r, 0, 255))).toString('latin1');
    default: return text;
  }
}

async function generate(index: number): Promise<RestJsonRequest> {
  const r = requestRng(SEED, index);
  const [routeMethod, route] = pick(r, ROUTES);
  const target = pick(r, rules);
  const id = chance(r, 0.6) ? target.id : pick(r, GARBAGE_SEGMENTS);
  const arn = encodeURIComponent(chance(r, 0.5) ? target.arn : pick(r, [
    target.arn.replace(target.account, THIRD), target.arn.replace('us-east-1', 'eu-west-1'), `${target.arn}x`, 'arn:aws:rbin:::rule/',
    `arn:aws:rbin:us-east-1:${THIRD}:rule/${target.id}`, 'arn', '', 'x'.repeat(3000), target.id,
  ]));
  let path = chance(r, 0.08) ? pick(r, ODD_PATHS) : route(id, chance(r, 0.1) ? pick(r, GARBAGE_SEGMENTS) : arn);
  let method = chance(r, 0.1) ? pick(r, ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']) : routeMethod;
  if (method === 'HEAD' || method === 'OPTIONS') method = 'GET';
  let query = '';
  if (chance(r, 0.3)) {
    query = pick(r, ['tagKeys=k', 'tagKeys=k&tagKeys=', `tagKeys=${'k'.repeat(200)}`, 'tagKeys=%ZZ', 'tagKeys', '=', '&&&', '%', 'a=b&a=c',
      `tagKeys=${Array.from({ length: 300 }, (_, i) => `k${i}`).join('&tagKeys=')}`, 'x=%00', '__proto__=1']);
  }
  if (query) path += `?${query}`;
  const text = body(r, method);
  const payload = Buffer.from(text, chance(r, 0.9) ? 'utf8' : 'latin1');
  // Only a GET or the exact ListRules route is read-only: anything else is signed by THIRD.
  const readOnly = method === 'GET' || (method === 'POST' && path === '/list-rules');
  const account = readOnly ? pick(r, [MAIN, SECOND, THIRD]) : THIRD;
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}` };
  const type = chance(r, 0.85) ? 'application/json' : pick(r, ['', 'text/plain', 'application/x-www-form-urlencoded', 'application/x-amz-json-1.1']);
  if (type) headers['content-type'] = type;
  return {
    head: await signedHead({ port: server.port, service: 'rbin', account, method, path, headers, body: payload }), body: payload, account,
    label: `#${index} ${method} ${JSON.stringify(path.slice(0, 80))} as ${account} body ${JSON.stringify(text.slice(0, 80))}`,
  };
}

function judge(req: RestJsonRequest, answer: RawAnswer): Verdict {
  return judgeRestJson(answer, {
    envelope: "rbin's",
    leak: (text) => {
      const other = rules.find((rule) => rule.account !== req.account && text.includes(rule.id));
      return other && `names ${other.account}'s rule ${other.id}`;
    },
  });
}

async function apiState(): Promise<unknown> {
  const state: Record<string, unknown> = {};
  for (const account of [MAIN, SECOND]) {
    const c = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(account), maxAttempts: 1 });
    for (const ResourceType of ['EBS_SNAPSHOT', 'EC2_IMAGE'] as const) {
      for (const summary of (await c.send(new ListRulesCommand({ ResourceType }))).Rules ?? []) {
        const { $metadata: _m, ...rule } = await c.send(new GetRuleCommand({ Identifier: summary.Identifier }));
        const tags = (await c.send(new ListTagsForResourceCommand({ ResourceArn: rule.RuleArn }))).Tags;
        state[`${account}/${summary.Identifier}`] = { rule, tags };
      }
    }
  }
  return state;
}

/** Every table's rows, except THIRD's own rules (the fuzz may change those). */
const storeState = (): Record<string, string> => tableDigests(server.dataDir, { account: THIRD, tables: ['rbin_rules'] });

before(async () => {
  server = await startServer();
  // THIRD's own rules let some of its changes succeed, so that those paths are fuzzed too.
  for (const account of [MAIN, MAIN, SECOND, THIRD, THIRD]) {
    const c = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(account), maxAttempts: 1 });
    const tagged = rules.length === 0;
    const rule = await c.send(new CreateRuleCommand({
      ResourceType: tagged ? 'EC2_IMAGE' : 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' },
      Description: `fuzz ${account}`, Tags: [{ Key: 'owner', Value: account }],
      ResourceTags: tagged ? [{ ResourceTagKey: 'keep', ResourceTagValue: 'yes' }] : undefined,
    }));
    if (!tagged && account !== THIRD) await c.send(new LockRuleCommand({ Identifier: rule.Identifier, LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } }));
    rules.push({ account, id: rule.Identifier!, arn: rule.RuleArn! });
  }
});

after(async () => {
  await server?.stop();
});

test(`fuzz: garbled Recycle Bin requests (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  await fuzzRestJsonService(t, {
    server, seed: SEED, count: COUNT, generate, judge, apiState, storeState,
    storeChanged: 'the store changed outside the third account\'s rules', apiChanged: 'MAIN\'s or SECOND\'s rules changed',
  });
});
