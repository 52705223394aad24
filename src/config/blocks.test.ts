import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ConfigError, parseServeOptions } from './config.ts';
import { parseBlocksOptions } from './blocks.ts';

test('without --blocks, blocks stay in the data directory', () => {
  assert.deepEqual(parseBlocksOptions({}, 'data'), { kind: 'fs', root: join(resolve('data'), 'blocks') });
  assert.deepEqual(parseServeOptions({ dataDir: 'd' }, {}).blocks, { kind: 'fs', root: join(resolve('d'), 'blocks') });
});

test('--blocks s3://BUCKET[/PREFIX] with an optional endpoint and region', () => {
  assert.deepEqual(parseBlocksOptions({ blocks: 's3://amiforge-blocks' }, 'd'),
    { kind: 's3', bucket: 'amiforge-blocks', prefix: '', endpoint: undefined, region: undefined });
  assert.deepEqual(
    parseServeOptions({ blocks: 's3://amiforge-blocks/prod/', s3Endpoint: 'http://127.0.0.1:7480', s3Region: 'eu-west-1' }, {}).blocks,
    { kind: 's3', bucket: 'amiforge-blocks', prefix: 'prod', endpoint: 'http://127.0.0.1:7480', region: 'eu-west-1' });
});

test('malformed block options are configuration errors naming the option', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ blocks: '/var/lib/blocks' }, /--blocks must be s3:\/\//],
    [{ blocks: 's3://B' }, /s3:\/\/BUCKET/],
    [{ blocks: 's3://bucket', s3Endpoint: 'ftp://x' }, /--s3-endpoint/],
    [{ blocks: 's3://bucket', s3Endpoint: 'http://host:7480/path' }, /--s3-endpoint/],
    [{ s3Endpoint: 'http://127.0.0.1:7480' }, /need --blocks/],
  ];
  for (const [o, message] of bad) {
    assert.throws(() => parseServeOptions(o, {}), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(o));
  }
});
