// The resources an Image Builder request is authorized on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageBuilderRequestTags, imageBuilderResources } from './imagebuilder-resources.ts';

const caller = { account: '111111111111', region: 'us-east-1' };
const arns = (action: string, input: Record<string, unknown>) => imageBuilderResources(action, input, caller).map((t) => t.arn);

test('a Create is authorized on what it would create and on every Image Builder ARN it names', () => {
  const component = 'arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x';
  assert.deepEqual(arns('CreateImageRecipe', { name: 'My Recipe', semanticVersion: '1.0.0', parentImage: 'ami-0123456789abcdef0', components: [{ componentArn: component }] }),
    ['arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/my-recipe/1.0.0', component]);
  assert.deepEqual(arns('CreateDistributionConfiguration', { name: 'dist', distributions: [] }),
    ['arn:aws:imagebuilder:us-east-1:111111111111:distribution-configuration/dist']);
});

test('other requests are authorized on the ARNs they name, or on * when they name none', () => {
  const arn = 'arn:aws:imagebuilder:eu-west-1:111111111111:component/c/1.0.0/1';
  assert.deepEqual(imageBuilderResources('GetComponent', { componentBuildVersionArn: arn }, caller), [{ arn, region: 'eu-west-1' }]);
  assert.deepEqual(arns('ListComponents', { owner: 'Self' }), ['*']);
  // A tag value that looks like an ARN is not a resource of the request.
  assert.deepEqual(arns('ListComponents', { tags: { a: arn } }), ['*']);
});

test('request tags become condition-key pairs', () => {
  assert.deepEqual(imageBuilderRequestTags({ tags: { team: 'a', n: 1 } }), [{ Key: 'team', Value: 'a' }, { Key: 'n', Value: '1' }]);
  assert.deepEqual(imageBuilderRequestTags({ tags: ['x'] }), []);
});
