// Every pattern of the generated JSON-protocol models must compile as the codec compiles it
// (Unicode mode): botocore's rbin model has one that does not (`{11}{0,1011}`), which made every
// request naming a rule ARN a 500 until scripts/rbin-model-patch.json corrected it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadJsonModel } from './model.ts';

for (const service of ['ebs', 'kms', 'rbin']) {
  test(`${service}: every pattern in the model compiles`, () => {
    const model = loadJsonModel(new URL(`../${service}/model.generated.json`, import.meta.url));
    for (const [name, shape] of Object.entries(model.shapes)) {
      if (shape.pattern) assert.doesNotThrow(() => new RegExp(shape.pattern!, 'u'), `${service} ${name}: ${shape.pattern}`);
    }
  });
}
