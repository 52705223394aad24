// Progress reports of uploads and downloads, for a progress bar or a log.

export interface TransferProgress {
  phase: 'upload' | 'complete' | 'download';
  snapshotId: string;
  /** Blocks to look at: the file's blocks (upload) or the snapshot's (download). */
  blocksTotal: number;
  /** Blocks looked at so far, sent or not. */
  blocksDone: number;
  /** Blocks sent (PutSnapshotBlock) or fetched (GetSnapshotBlock). */
  blocksTransferred: number;
  /** Upload: blocks not sent (zeros, already in the parent, written before a resume). */
  blocksSkipped: number;
  bytesTransferred: number;
}

export type ProgressListener = (p: Readonly<TransferProgress>) => void;
