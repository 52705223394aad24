// Where blocks are kept: `--blocks s3://BUCKET[/PREFIX]` (an S3-compatible object store, shared
// by every node of a cluster) or, without it, the data directory's `blocks` folder. Parsed once
// with the rest of the configuration; src/server/stores.ts opens it.
import { join, resolve } from 'node:path';
import { parseBlocksLocation } from '../adapters/s3/s3-block-store.ts';

export type BlocksConfig =
  | { readonly kind: 'fs'; readonly root: string }
  /** endpoint and region absent: the SDK's environment (AWS_ENDPOINT_URL_S3, AWS_REGION) decides. */
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string; readonly endpoint?: string; readonly region?: string };

export interface BlocksOptions {
  blocks?: string;
  s3Endpoint?: string;
  s3Region?: string;
}

/** Throws a plain Error naming the option at fault; callers wrap it as their ConfigError. */
export function parseBlocksOptions(o: BlocksOptions, dataDir: string): BlocksConfig {
  if (!o.blocks) {
    if (o.s3Endpoint || o.s3Region) throw new Error('--s3-endpoint and --s3-region need --blocks s3://BUCKET[/PREFIX]');
    return Object.freeze({ kind: 'fs', root: join(resolve(dataDir), 'blocks') });
  }
  if (!o.blocks.startsWith('s3://')) {
    throw new Error(`--blocks must be s3://BUCKET[/PREFIX] (without it blocks are kept in the data directory), got ${o.blocks}`);
  }
  const { bucket, prefix } = parseBlocksLocation(o.blocks);
  if (o.s3Endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(o.s3Endpoint)) {
    throw new Error(`--s3-endpoint must be an http:// or https:// URL with no path, got ${o.s3Endpoint}`);
  }
  return Object.freeze({ kind: 's3', bucket, prefix, endpoint: o.s3Endpoint || undefined, region: o.s3Region || undefined });
}

/** Commander options shared by serve, fsck and the storage commands. */
export const BLOCKS_OPTION_HELP = {
  blocks: 'keep blocks in an S3-compatible bucket, s3://BUCKET[/PREFIX] (default: DATA_DIR/blocks); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the usual AWS sources',
  s3Endpoint: 'with --blocks: the S3-compatible server\'s URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3)',
  s3Region: 'with --blocks: the bucket\'s region (default: AWS_REGION, else us-east-1)',
} as const;
