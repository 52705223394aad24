// Reading a disk's filesystem without booting it: a port, so the domain's rules (what a hygiene
// scan looks at) know nothing of the tools that read ext4 (src/adapters/offline-fs).

/** A disk's bytes, read lazily (a snapshot's blocks). */
export interface DiskBytes {
  /** Bytes. */
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** The byte ranges that hold stored data, in order (the rest reads as zeros). */
  storedRanges(): AsyncIterable<{ offset: number; length: number }>;
}

export type FsEntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface FsEntry {
  name: string;
  kind: FsEntryKind;
  /** Bytes (0 for directories). */
  size: number;
  /** Permission bits (e.g. 0o600). */
  mode: number;
  uid: number;
}

/** An open filesystem. Paths are absolute; calls take many paths at once (one reader run each). */
export interface OfflineFilesystem {
  /** How the disk reached the reader (e.g. `fuse`, `sparse-copy`), for reports. */
  readonly method: string;
  /** Each directory's entries (without `.` and `..`); directories that do not exist are absent. */
  listDirs(paths: string[]): Promise<Map<string, FsEntry[]>>;
  /** Each regular file's bytes; files that do not exist are absent. */
  readFiles(paths: string[]): Promise<Map<string, Buffer>>;
  close(): Promise<void>;
}

export interface OfflineFilesystems {
  /** Opens the ext2/3/4 filesystem that starts `offset` bytes into the disk, read-only. */
  open(disk: DiskBytes, offset: number): Promise<OfflineFilesystem>;
}
