// Errors the snapshot client raises itself, each with a message that says what to do. Errors
// from the services (the AWS SDK's) pass through unchanged.

export class SnapshotClientError extends Error {
  override name = 'SnapshotClientError';

  static fromFs(err: unknown, path: string): Error {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT') return new SnapshotClientError(`${path} does not exist; check the path`);
    if (code === 'EACCES' || code === 'EPERM') return new SnapshotClientError(`${path} cannot be opened: permission denied`);
    if (code === 'EISDIR') return new SnapshotClientError(`${path} is a directory; give the path of a file`);
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** The upload or download was stopped through its AbortSignal; an upload can be resumed. */
export class TransferAbortedError extends Error {
  override name = 'AbortError';
  readonly snapshotId?: string;
  constructor(message: string, snapshotId?: string) {
    super(message);
    this.snapshotId = snapshotId;
  }
}
