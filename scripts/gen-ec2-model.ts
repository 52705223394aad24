// Regenerates the EC2 wire table and TypeScript types from botocore's EC2 service model.
//
//   npm run gen:ec2 [-- path/to/service-2.json(.gz)]
//
// Only the operations listed in scripts/ec2-operations.txt get shapes; every operation name is
// kept so the dispatcher can tell "a real EC2 action amiforge lacks" from "no such action".
// Corrections to the model live in scripts/ec2-model-patch.json, never in generated files.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatch, loadModel, locateModel, reachable, renderTypes, trimShape } from './model-tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const model = loadModel(locateModel('ec2', '2016-11-15', process.argv[2]));
applyPatch(model, join(root, 'scripts', 'ec2-model-patch.json'));
const wanted = readFileSync(join(root, 'scripts', 'ec2-operations.txt'), 'utf8')
  .split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
const missing = wanted.filter((op) => !model.operations[op]);
if (missing.length) throw new Error(`not in the model: ${missing.join(', ')}`);
const operations = [...new Set(wanted)].sort();
const starts = operations.flatMap((op) => [model.operations[op].input?.shape, model.operations[op].output?.shape])
  .filter((s): s is string => !!s);
const shapes = reachable(model, starts);
const table = {
  metadata: { apiVersion: model.metadata.apiVersion, xmlNamespace: model.metadata.xmlNamespace },
  allOperations: Object.keys(model.operations).sort(),
  operations: Object.fromEntries(operations.map((op) => {
    const o = model.operations[op];
    return [op, { input: o.input?.shape ?? null, output: o.output?.shape ?? null }];
  })),
  shapes: Object.fromEntries(shapes.map((n) => [n, trimShape(model.shapes[n])])),
};
const outDir = join(root, 'src', 'protocol', 'ec2');
writeFileSync(join(outDir, 'model.generated.json'), JSON.stringify(table) + '\n');
writeFileSync(join(outDir, 'types.generated.ts'), renderTypes(model, shapes, operations, 'Ec2', 'scripts/gen-ec2-model.ts'));
console.log(`ec2: ${operations.length} operations, ${shapes.length} shapes`);
