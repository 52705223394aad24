// Regenerates the wire table and TypeScript types of a JSON-protocol service (EBS direct APIs and
// Recycle Bin, Image Builder: rest-json; KMS, SSM: json 1.1) from botocore's model.
//
//   npm run gen:json -- ebs | kms | rbin | imagebuilder | ssm
//
// Every operation is kept, with its HTTP binding, member locations and declared errors.
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatch, loadModel, locateModel, reachable, renderTypes, trimShape } from './model-tools.ts';

const SERVICES: Record<string, { version: string; prefix: string }> = {
  ebs: { version: '2019-11-02', prefix: 'Ebs' },
  kms: { version: '2014-11-01', prefix: 'Kms' },
  rbin: { version: '2021-06-15', prefix: 'Rbin' },
  imagebuilder: { version: '2019-12-02', prefix: 'Ib' },
  ssm: { version: '2014-11-06', prefix: 'Ssm' },
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const service = process.argv[2];
const spec = SERVICES[service];
if (!spec) throw new Error(`usage: gen-json-model.ts ${Object.keys(SERVICES).join('|')} [model-file]`);
const model = loadModel(locateModel(service, spec.version, process.argv[3]));
// Corrections to botocore's model, e.g. an HTTP status AWS's API reference documents.
const patch = join(root, 'scripts', `${service}-model-patch.json`);
if (existsSync(patch)) applyPatch(model, patch);
const operations = Object.keys(model.operations).sort();
const starts = operations.flatMap((op) => {
  const o = model.operations[op];
  return [o.input?.shape, o.output?.shape, ...(o.errors ?? []).map((e) => e.shape)];
}).filter((s): s is string => !!s);
const shapes = reachable(model, starts);
const table = {
  metadata: {
    apiVersion: model.metadata.apiVersion, protocol: model.metadata.protocol,
    targetPrefix: model.metadata.targetPrefix, jsonVersion: model.metadata.jsonVersion,
  },
  operations: Object.fromEntries(operations.map((op) => {
    const o = model.operations[op];
    return [op, {
      http: o.http, input: o.input?.shape ?? null, output: o.output?.shape ?? null,
      errors: (o.errors ?? []).map((e) => e.shape),
    }];
  })),
  shapes: Object.fromEntries(shapes.map((n) => [n, trimShape(model.shapes[n])])),
};
const outDir = join(root, 'src', 'protocol', service);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'model.generated.json'), JSON.stringify(table, null, 1) + '\n');
writeFileSync(join(outDir, 'types.generated.ts'), renderTypes(model, shapes, operations, spec.prefix, 'scripts/gen-json-model.ts'));
console.log(`${service}: ${operations.length} operations, ${shapes.length} shapes`);
