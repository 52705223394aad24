// Fuzz: garbled Image Builder (imagebuilder, rest-json) requests against one dev-mode server, over
// raw TCP: every operation of the model's routes (implemented or not) with wrong methods, garbled
// and huge ARNs in paths and query strings, and bodies that are near-valid, truncated, not
// objects, deeply nested, of wrong types, huge, or full of prototype keys.
//
// Every answer must be below 500, carry a request id, and (for an error) be Image Builder's JSON
// error envelope with no stack trace. Requests that could change something are signed as a third
// account: MAIN's and SECOND's resources must end exactly as they were, a 2xx to one account must
// never name another's resource, and the server's log must hold no errors. Reproduce with
// FUZZ_SEED=<seed> (printed); FUZZ_COUNT sets how many requests.
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import {
  CreateComponentCommand, CreateDistributionConfigurationCommand, CreateImageRecipeCommand, CreateInfrastructureConfigurationCommand,
  GetComponentCommand, ImagebuilderClient, ListComponentsCommand, ListDistributionConfigurationsCommand, ListImageRecipesCommand,
  ListInfrastructureConfigurationsCommand,
} from '@aws-sdk/client-imagebuilder';
import { devCredentials } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import {
  chance, FUZZ_SEED as SEED, fuzzCount, fuzzRestJsonService, int, judgeRestJson, MAIN, pick, requestRng, SECOND, signedHead, tableDigests, THIRD,
  type RawAnswer, type RestJsonRequest, type Rng, type Verdict,
} from '../support/fuzz-raw-http.ts';
import { amazonInUsEast1 } from '../support/catalog.ts';

const COUNT = fuzzCount(1500);

const MODEL = JSON.parse(readFileSync(new URL('../../src/protocol/imagebuilder/model.generated.json', import.meta.url), 'utf8')) as {
  operations: Record<string, { http: { method: string; requestUri: string } }>;
};
const ROUTES = Object.entries(MODEL.operations).map(([name, op]) => ({ name, method: op.http.method, uri: op.http.requestUri }));

const DOC = 'name: fuzz\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: s\n        action: ExecuteBash\n        inputs:\n          commands: ["echo hi"]\n';

let server: RunningServer;
/** ARNs made in before(), by owner. */
const owned: { account: string; arn: string }[] = [];

const GARBAGE = ['', '.', '..', '%2F', '%ZZ', '%', '%00', '%C0%AF', '%FF', 'a'.repeat(5000), '__proto__', 'constructor', encodeURIComponent('ü😀'), '*',
  'arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x', 'arn:aws:imagebuilder:us-east-1:123456789012:component/x/1.x.2',
  'arn:aws:imagebuilder:::component/', 'arn:aws:imagebuilder:us-east-1:123456789012:image/none/1.0.0/1'];
const STRINGS = (): unknown[] => ['', 'x', 'abc', 'a'.repeat(70_000), '\u0000', '\uD800', '😀'.repeat(200), '${jndi:x}', '../../etc/passwd', '1.0.0',
  'x.x.x', 'Linux', 'Windows', 'BUILD', 'SHELL', 'us-east-1', 'mars-1', 't3.micro', amazonInUsEast1[0], 'ami-00000000', '{{ imagebuilder:buildDate }}',
  DOC, 'phases: [', 'name: only'];
const NUMBERS = [0, -1, 1, 25, 26, 1e308, 2 ** 53, 0.5, Number.MAX_SAFE_INTEGER];
const KEYS = ['name', 'semanticVersion', 'platform', 'data', 'uri', 'clientToken', 'description', 'tags', 'components', 'componentArn', 'parameters',
  'parentImage', 'instanceTypes', 'instanceProfileName', 'securityGroupIds', 'subnetId', 'keyPair', 'distributions', 'region',
  'amiDistributionConfiguration', 'launchPermission', 'userGroups', 'filters', 'values', 'maxResults', 'nextToken', 'owner', 'byName',
  'componentBuildVersionArn', 'imageRecipeArn', 'infrastructureConfigurationArn', 'distributionConfigurationArn', 'format', 'type', 'dryRun',
  '__proto__', 'constructor', 'prototype', '', 'x'.repeat(300)];

function value(r: Rng, depth = 0): unknown {
  switch (int(r, 0, 6)) {
    case 0: case 1: return pick(r, STRINGS());
    case 2: return pick(r, NUMBERS);
    case 3: return pick(r, [true, false, null]);
    case 4: return depth > 3 ? [] : Array.from({ length: int(r, 0, 4) }, () => value(r, depth + 1));
    case 5: return depth > 3 ? {} : object(r, depth + 1);
    default: return pick(r, owned).arn;
  }
}

function object(r: Rng, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0, n = int(r, 0, 6); i < n; i++) Object.defineProperty(o, pick(r, KEYS), { value: value(r, depth), enumerable: true, configurable: true, writable: true });
  return o;
}

/** A near-valid body for the operation most of the time, garbage otherwise. */
function body(r: Rng, operation: string, method: string): string {
  if ((method === 'GET' || method === 'DELETE') && chance(r, 0.8)) return '';
  const valid: Record<string, unknown> = {
    name: chance(r, 0.8) ? `fuzz-${int(r, 0, 20)}` : pick(r, STRINGS()), semanticVersion: chance(r, 0.8) ? `1.0.${int(r, 0, 3)}` : pick(r, STRINGS()),
    platform: 'Linux', clientToken: chance(r, 0.5) ? `tok-${int(r, 0, 5)}` : undefined,
  };
  if (/Component/.test(operation)) Object.assign(valid, { data: chance(r, 0.8) ? DOC : pick(r, STRINGS()), type: 'BUILD', format: 'SHELL' });
  if (/ImageRecipe/.test(operation)) {
    Object.assign(valid, { parentImage: chance(r, 0.7) ? amazonInUsEast1[0] : pick(r, STRINGS()), components: [{ componentArn: pick(r, owned).arn }] });
  }
  if (/Infrastructure/.test(operation)) Object.assign(valid, { instanceProfileName: 'p', instanceTypes: [pick(r, ['t3.micro', 'nope'])] });
  if (/Distribution/.test(operation)) {
    Object.assign(valid, { distributions: [{ region: pick(r, ['us-east-1', 'eu-west-1', 'mars-1']), amiDistributionConfiguration: chance(r, 0.5) ? { name: pick(r, STRINGS()) } : {} }] });
  }
  if (/^(Update|Get|Delete)/.test(operation)) {
    for (const k of ['infrastructureConfigurationArn', 'distributionConfigurationArn', 'imageRecipeArn', 'componentBuildVersionArn']) valid[k] = pick(r, owned).arn;
  }
  if (operation.startsWith('List')) Object.assign(valid, { maxResults: pick(r, NUMBERS), nextToken: chance(r, 0.3) ? pick(r, ['', 'garbage', 'cDE', 'a'.repeat(5000)]) : undefined });
  if (chance(r, 0.3)) Object.assign(valid, object(r));
  const text = JSON.stringify(chance(r, 0.65) ? valid : value(r));
  switch (int(r, 0, 9)) {
    case 0: return (text ?? '').slice(0, int(r, 0, (text ?? '').length));
    case 1: return `${'['.repeat(int(r, 100, 20_000))}1`;
    case 2: return pick(r, ['null', '[]', '1', '"x"', 'true', '{', '}', '{"a":', '\u0000', '{"__proto__":{"polluted":1}}', '{"tags":{"__proto__":"x"}}']);
    case 3: return Buffer.from(Array.from({ length: int(r, 0, 500) }, () => int(r, 0, 255))).toString('latin1');
    default: return text ?? '';
  }
}

async function generate(index: number): Promise<RestJsonRequest> {
  const r = requestRng(SEED, index);
  const route = pick(r, ROUTES);
  const target = pick(r, owned);
  const arn = chance(r, 0.6) ? target.arn : pick(r, [...GARBAGE, target.arn.replace(target.account, THIRD), `${target.arn}x`]);
  let path = route.uri.replace('{resourceArn}', chance(r, 0.85) ? encodeURIComponent(arn) : pick(r, GARBAGE));
  if (chance(r, 0.05)) path = pick(r, ['/', '//', '/tags', '/tags/', '/CreateComponent/', '/createcomponent', `/${'r'.repeat(9000)}`]);
  let method = chance(r, 0.1) ? pick(r, ['GET', 'POST', 'PATCH', 'DELETE', 'PUT']) : route.method;
  if (chance(r, 0.02)) method = 'OPTIONS';
  if (method === 'OPTIONS') method = 'GET';
  const queryKey = pick(r, ['componentBuildVersionArn', 'imageRecipeArn', 'infrastructureConfigurationArn', 'distributionConfigurationArn', 'tagKeys',
    'imageBuildVersionArn', 'imagePipelineArn', 'x']);
  if (chance(r, 0.7)) {
    const q = pick(r, [`${queryKey}=${encodeURIComponent(arn)}`, `${queryKey}=${encodeURIComponent(target.arn)}`, 'tagKeys=k&tagKeys=', '%', '=',
      `tagKeys=${Array.from({ length: 300 }, (_, i) => `k${i}`).join('&tagKeys=')}`, '__proto__=1', `${queryKey}=%ZZ`]);
    path += `?${q}`;
  }
  const text = body(r, route.name, method);
  const payload = Buffer.from(text, chance(r, 0.9) ? 'utf8' : 'latin1');
  const readOnly = method === 'GET' || (method === 'POST' && /^\/List[A-Za-z]*$/.test(path));
  const account = readOnly ? pick(r, [MAIN, SECOND, THIRD]) : THIRD;
  const headers: Record<string, string> = { host: `127.0.0.1:${server.port}` };
  const type = chance(r, 0.85) ? 'application/json' : pick(r, ['', 'text/plain', 'application/x-www-form-urlencoded']);
  if (type) headers['content-type'] = type;
  return {
    head: await signedHead({ port: server.port, service: 'imagebuilder', account, method, path, headers, body: payload }), body: payload, account,
    label: `#${index} ${method} ${JSON.stringify(path.slice(0, 100))} as ${account} body ${JSON.stringify(text.slice(0, 100))}`,
  };
}

function judge(req: RestJsonRequest, answer: RawAnswer): Verdict {
  return judgeRestJson(answer, {
    envelope: "Image Builder's",
    leak: (text) => {
      const other = owned.find((o) => o.account !== req.account && text.includes(o.arn));
      return other && `names ${other.account}'s ${other.arn}`;
    },
  });
}

const client = (account: string) => new ImagebuilderClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(account), maxAttempts: 1 });

async function apiState(): Promise<unknown> {
  const state: Record<string, unknown> = {};
  for (const account of [MAIN, SECOND]) {
    const c = client(account);
    const strip = <T extends { $metadata?: unknown; requestId?: unknown }>(x: T) => ({ ...x, $metadata: undefined, requestId: undefined });
    state[account] = {
      components: strip(await c.send(new ListComponentsCommand({}))),
      recipes: strip(await c.send(new ListImageRecipesCommand({}))),
      infrastructure: strip(await c.send(new ListInfrastructureConfigurationsCommand({}))),
      distribution: strip(await c.send(new ListDistributionConfigurationsCommand({}))),
      component: strip(await c.send(new GetComponentCommand({ componentBuildVersionArn: owned.find((o) => o.account === account && o.arn.includes(':component/'))!.arn }))),
    };
  }
  return state;
}

/**
 * Every table's rows, except THIRD's own Image Builder records (the fuzz may change those) and
 * THIRD's default network (made on first use, as if it had always existed as on AWS: a
 * configuration naming a subnet or group looks it up).
 */
const storeState = (): Record<string, string> => tableDigests(server.dataDir, { account: THIRD, tables: ['ib_records', 'vpcs', 'subnets', 'security_groups'] });

before(async () => {
  server = await startServer();
  // THIRD's own resources let some of its changes succeed, so that those paths are fuzzed too.
  for (const account of [MAIN, SECOND, THIRD]) {
    const c = client(account);
    const { componentBuildVersionArn } = await c.send(new CreateComponentCommand({ name: 'fuzz-comp', semanticVersion: '1.0.0', platform: 'Linux', data: DOC, tags: { owner: account } }));
    owned.push({ account, arn: componentBuildVersionArn! });
    const { imageRecipeArn } = await c.send(new CreateImageRecipeCommand({ name: 'fuzz-recipe', semanticVersion: '1.0.0', parentImage: amazonInUsEast1[0], components: [{ componentArn: componentBuildVersionArn! }] }));
    owned.push({ account, arn: imageRecipeArn! });
    const { infrastructureConfigurationArn } = await c.send(new CreateInfrastructureConfigurationCommand({ name: 'fuzz-infra', instanceProfileName: 'p' }));
    owned.push({ account, arn: infrastructureConfigurationArn! });
    const { distributionConfigurationArn } = await c.send(new CreateDistributionConfigurationCommand({ name: 'fuzz-dist', distributions: [{ region: 'us-east-1', amiDistributionConfiguration: {} }] }));
    owned.push({ account, arn: distributionConfigurationArn! });
  }
});

after(async () => {
  await server?.stop();
});

test(`fuzz: garbled Image Builder requests (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  await fuzzRestJsonService(t, {
    server, seed: SEED, count: COUNT, generate, judge, apiState, storeState,
    storeChanged: 'the store changed outside the third account\'s records', apiChanged: 'MAIN\'s or SECOND\'s resources changed',
  });
});
