// The snapshot client: moves disk images in and out of EBS snapshots through the public EBS
// direct APIs and registers AMIs through EC2. It speaks only those APIs (with the AWS SDK's
// clients, which the caller makes and configures), so it works against amiforge or AWS alike.
export { BLOCK_SIZE } from './blocks.ts';
export { downloadSnapshot, type DownloadOptions, type DownloadResult } from './download.ts';
export { SnapshotClientError, TransferAbortedError } from './errors.ts';
export { importImage, importImageDetailed, type ImportedImage, type ImportImageOptions } from './image.ts';
export { JOURNAL_SUFFIX, journalPathFor } from './journal.ts';
export { defaultCacheDir } from './manifest.ts';
export type { ProgressListener, TransferProgress } from './progress.ts';
export { isTransient, withRetry, type RetryOptions } from './retry.ts';
export { detectFormat, type ImageFormat } from './source.ts';
export { SOURCE_SIZE_TAG, uploadSnapshot, type Tags, type UploadOptions } from './upload.ts';
export { waitForCompleted } from './wait.ts';
