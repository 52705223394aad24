// What a hygiene scan reads of a filesystem, and in which order: a few known places first (SSH,
// shadow, machine-id, temporary directories, cloud-init's state), then a bounded walk of the
// home directories, /root and /etc whose small files are read for keys and credentials. Each
// step asks the reader for many paths at once (one reader run per directory level), and the
// bounds keep the cost to what those directories hold, whatever the disk's size.
import type { FsEntry, OfflineFilesystem } from '../../../ports/offline-filesystem.ts';
import {
  authorizedKeysFinding, contentFindings, dedupe, isSshHostPrivateKey, leftoverFinding, machineIdFinding,
  SHELL_HISTORIES, shadowFindings, shellHistoryFinding, sshHostKeyFinding,
} from './hygiene-rules.ts';
import type { HygieneFinding } from './hygiene-types.ts';

export interface WalkLimits {
  /** Depth below a home directory (or /root) the walk goes. */
  homeDepth: number;
  /** Depth below /etc. */
  etcDepth: number;
  /** Files larger than this are not read for contents (keys and credential files are small). */
  maxFileBytes: number;
  /** Directories listed at most, and files read at most, in the walk. */
  maxDirs: number;
  maxFiles: number;
  /** Findings per temporary directory or cloud-init listing (the rest summed up in one more). */
  maxLeftovers: number;
}

export const DEFAULT_LIMITS: WalkLimits = { homeDepth: 6, etcDepth: 4, maxFileBytes: 64 * 1024, maxDirs: 4000, maxFiles: 6000, maxLeftovers: 20 };

/** Runtime sockets' directories that tmpfiles.d makes; harmless when a build leaves them. */
const TMP_RUNTIME = new Set(['.X11-unix', '.ICE-unix', '.XIM-unix', '.font-unix', '.Test-unix', 'lost+found']);
const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

export interface WalkResult { findings: HygieneFinding[]; filesRead: number; truncated: boolean }

export async function walkForFindings(fs: OfflineFilesystem, limits: WalkLimits = DEFAULT_LIMITS): Promise<WalkResult> {
  const findings: HygieneFinding[] = [];
  const known = await fs.listDirs(['/etc', '/etc/ssh', '/root', '/home', '/tmp', '/var/tmp', '/var/lib/cloud/instances']);

  for (const e of known.get('/etc/ssh') ?? []) {
    if (e.kind === 'file' && e.size > 0 && isSshHostPrivateKey(e.name)) findings.push(sshHostKeyFinding(`/etc/ssh/${e.name}`));
  }
  for (const dir of ['/tmp', '/var/tmp']) findings.push(...leftovers(dir, known.get(dir), 'temp-file', limits));
  findings.push(...leftovers('/var/lib/cloud/instances', known.get('/var/lib/cloud/instances'), 'cloud-init-instance', limits));

  // The bounded walk: /root and each /home/NAME to homeDepth, /etc to etcDepth.
  const homes = ['/root', ...(known.get('/home') ?? []).filter((e) => e.kind === 'dir').map((e) => `/home/${e.name}`)];
  const files: { path: string; entry: FsEntry; home?: string }[] = [];
  let level: { path: string; depth: number; max: number; home?: string }[] = [
    ...homes.map((h) => ({ path: h, depth: 0, max: limits.homeDepth, home: h })),
    { path: '/etc', depth: 0, max: limits.etcDepth },
  ];
  let listed = 0;
  let truncated = false;
  let listing: Map<string, FsEntry[]> = known;
  while (level.length) {
    const missing = level.filter((d) => !listing.has(d.path)).map((d) => d.path);
    if (missing.length) listing = new Map([...listing, ...await fs.listDirs(missing)]);
    const next: typeof level = [];
    for (const dir of level) {
      const entries = listing.get(dir.path);
      if (!entries) continue;
      listed++;
      for (const entry of entries) {
        const path = join(dir.path, entry.name);
        if (entry.kind === 'file') files.push({ path, entry, home: dir.home });
        else if (entry.kind === 'dir' && dir.depth + 1 <= dir.max) next.push({ path, depth: dir.depth + 1, max: dir.max, home: dir.home });
      }
    }
    if (listed + next.length > limits.maxDirs) {
      truncated = true;
      next.length = Math.max(0, limits.maxDirs - listed);
    }
    level = next;
    listing = new Map();
  }

  // Names alone: shell histories. Then contents of the small files (and the few known ones).
  const toRead = new Set<string>();
  for (const f of files) {
    if (f.home && SHELL_HISTORIES.has(f.entry.name)) {
      const h = shellHistoryFinding(f.path, f.entry.size);
      if (h) findings.push(h);
    }
    if (f.entry.size > 0 && f.entry.size <= limits.maxFileBytes && !(f.path.startsWith('/etc/ssh/') && isSshHostPrivateKey(f.entry.name))) toRead.add(f.path);
  }
  if (toRead.size > limits.maxFiles) {
    truncated = true;
    // The homes first: that is where a build's keys and credentials land.
    const ordered = [...toRead].sort((a, b) => Number(a.startsWith('/etc/')) - Number(b.startsWith('/etc/')));
    toRead.clear();
    for (const p of ordered.slice(0, limits.maxFiles)) toRead.add(p);
  }
  const etc = known.get('/etc') ?? [];
  const size = (name: string) => etc.find((e) => e.name === name && e.kind === 'file')?.size;
  for (const name of ['shadow', 'machine-id']) {
    const s = size(name);
    if (s !== undefined && s > 0 && s <= 4 * 1024 * 1024) toRead.add(`/etc/${name}`);
  }
  const contents = await fs.readFiles([...toRead]);

  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const [path, data] of contents) {
    if (path === '/etc/shadow') findings.push(...shadowFindings(path, data));
    if (path === '/etc/machine-id') {
      const m = machineIdFinding(path, data);
      if (m) findings.push(m);
    }
    const f = byPath.get(path);
    if (f?.home && /\/\.ssh\/authorized_keys2?$/.test(path)) {
      const a = authorizedKeysFinding(path, data, f.home === '/root');
      if (a) findings.push(a);
    }
    findings.push(...contentFindings(path, data));
  }
  return { findings: dedupe(findings), filesRead: contents.size, truncated };
}

function leftovers(dir: string, entries: FsEntry[] | undefined, kind: 'temp-file' | 'cloud-init-instance', limits: WalkLimits): HygieneFinding[] {
  const names = (entries ?? []).filter((e) => !TMP_RUNTIME.has(e.name)).map((e) => e.name).sort();
  const out = names.slice(0, limits.maxLeftovers).map((n) => leftoverFinding(join(dir, n), kind));
  if (names.length > limits.maxLeftovers) {
    out.push({ ...leftoverFinding(dir, kind), detail: `and ${names.length - limits.maxLeftovers} more entries in ${dir}` });
  }
  return out;
}
