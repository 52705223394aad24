// What a hygiene scan reports: findings about what an image should not carry (secrets, keys,
// identity, leftovers), each with a severity, and what the scan cost.

export type HygieneSeverity = 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL';

export interface HygieneFinding {
  severity: HygieneSeverity;
  /** What was found, e.g. `ssh-host-key`, `private-key`, `shell-history` (docs/hygiene-scan.md). */
  kind: string;
  /** The file or directory in the image. */
  path: string;
  /** A description that never repeats the secret itself. */
  detail: string;
}

export interface HygieneReport {
  imageId: string;
  findings: HygieneFinding[];
  /** Bytes loaded from the block store for the scan. */
  bytesRead: number;
  /** Files whose contents were read. */
  filesRead: number;
  durationMs: number;
  /** How the disk reached the filesystem reader (`fuse`, `sparse-copy`). */
  method?: string;
}

export interface InstalledPackage { packageName: string; packageVersion: string }

export const SEVERITY_ORDER: readonly HygieneSeverity[] = ['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
