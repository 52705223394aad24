// The embedded metadata store: SQLite through Node's built-in `node:sqlite` (no native addon to
// build). WAL journal with synchronous=NORMAL: a committed transaction survives a process crash;
// a power loss may lose the last few commits but never corrupts the database.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type PrepareOptions, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Errors } from '../../domain/errors.ts';
import type { LaunchPermission, Tag } from '../../protocol/ec2/types.generated.ts';
import type {
  ImageQuery, ImageRecord, ImageRepository, MetadataStore, StoredImage, TagQuery, TagRecord, TagRepository,
} from '../../ports/metadata-store.ts';
import { migrateSqlite } from './migrate.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SqliteAccountSettings } from './sqlite-account-settings.ts';
import { matchesWildcard } from '../../domain/filters.ts';
import { SqliteSnapshots } from './sqlite-snapshots.ts';
import { SqliteVolumes } from './sqlite-volumes.ts';
import { SqliteKeys } from './sqlite-keys.ts';
import { SqliteInstances, SqliteKeyPairs } from './sqlite-instances.ts';
import { INSTANCE_RESET } from './schema-instances.ts';
import type { InstanceRepository, KeyPairRepository } from '../../ports/instance-repository.ts';
import type { KeyRepository } from '../../ports/key-repository.ts';
import type { VolumeRepository } from '../../ports/volume-repository.ts';
import { wildcardRange } from './name-range.ts';
import { putTags, SqliteTags, type Tx } from './sqlite-tags.ts';
import type { SnapshotRepository } from '../../ports/snapshot-repository.ts';
import type { RecycleBinRepository } from '../../ports/recycle-bin-repository.ts';
import { RECYCLE_BIN_RESET } from './schema-recycle-bin.ts';
import { SqliteRecycleBin } from './sqlite-recycle-bin.ts';
import { SqliteSsmParameters, SSM_PARAMETERS_RESET } from './sqlite-ssm-parameters.ts';
import { NETWORK_RESET } from './schema-network.ts';
import { IMAGEBUILDER_RESET } from './schema-imagebuilder.ts';
import { SqliteImageBuilder } from './sqlite-imagebuilder.ts';
import type { ImageBuilderRepository } from '../../ports/imagebuilder-repository.ts';
import { SqliteNetwork } from './sqlite-network.ts';
import type { NetworkRepository } from '../../ports/network-repository.ts';
import { SqliteWorkLeases } from './sqlite-work-leases.ts';
import { SqliteCopyScheduleState } from './sqlite-copy-schedule-state.ts';
import type { WorkLeaseRepository } from '../../ports/work-leases.ts';
import type { CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';
import type { NodeRegistry } from '../../ports/node-registry.ts';
import { SqliteNodes } from './sqlite-nodes.ts';
import { SqliteConsoleSessions } from './sqlite-console-sessions.ts';
import type { ConsoleSessionStore } from '../../ports/console-sessions.ts';
import { sqliteImageTable } from './sqlite-image-table.ts';
import type { ImageTablePage, ImageTableQuery } from '../../ports/image-table.ts';
import { GroupCommit } from './group-commit.ts';
import { deepFreeze } from '../../domain/deep-freeze.ts';

/** Rows fetched per round trip while scanning; keeps memory flat and no cursor open across awaits. */
const SCAN_BATCH = 500;
/** Parsed image documents kept for scans (a couple of KB each); a full cache forgets its oldest. */
const MAX_PARSED_IMAGES = 5000;

type Row = Record<string, SQLInputValue>;

/** The most distinct statements kept compiled; the scans' SQL varies with the filters asked. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * A DatabaseSync whose prepare() hands back the statement already compiled for the same SQL.
 * The repositories prepare statements where they use them, and compiling one costs 10-20 µs,
 * several times in every request. Sharing is safe because every use runs its statement to
 * completion synchronously (all, get, run, or an iterate() loop that runs nothing else).
 */
class StatementCachingDatabase extends DatabaseSync {
  private readonly statements = new Map<string, StatementSync>();

  override prepare(sql: string, options?: PrepareOptions): StatementSync {
    if (options) return super.prepare(sql, options);
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      stmt = super.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

function permissionRows(imageId: string, perms: LaunchPermission[]): [string, string, string][] {
  return perms.map((p) => {
    if (p.Group) return [imageId, 'group', p.Group];
    if (p.UserId) return [imageId, 'user', p.UserId];
    if (p.OrganizationArn) return [imageId, 'org', p.OrganizationArn];
    return [imageId, 'ou', p.OrganizationalUnitArn!];
  });
}

export class SqliteMetadataStore implements MetadataStore {
  readonly images: ImageRepository;
  readonly tags: TagRepository;
  readonly snapshots: SnapshotRepository;
  readonly volumes: VolumeRepository;
  readonly keys: KeyRepository;
  readonly instances: InstanceRepository;
  readonly keyPairs: KeyPairRepository;
  readonly accountSettings: SqliteAccountSettings;
  readonly recycleBin: RecycleBinRepository;
  readonly ssmParameters: SqliteSsmParameters;
  readonly network: NetworkRepository;
  readonly imageBuilder: ImageBuilderRepository;
  readonly leases: WorkLeaseRepository;
  readonly copyScheduleState: CopyScheduleStateStore;
  readonly nodes: NodeRegistry;
  readonly consoleSessions: ConsoleSessionStore;
  private readonly db: DatabaseSync;
  private readonly groupCommit: GroupCommit;

  /** `path` is a file, or `:memory:` for tests. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new StatementCachingDatabase(path);
    this.db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;');
    try {
      migrateSqlite(this.db, SQLITE_MIGRATIONS);
    } catch (err) {
      this.db.close();
      throw err;
    }
    // EC2 wildcard matching for pushed-down name and tag filters. SQLite's GLOB was used before,
    // but it refuses patterns over 50,000 bytes (a 500) and its semantics differ in corners from
    // the domain's matcher; this runs the domain's own, linear-time matcher.
    this.db.function('ec2_wildcard', { deterministic: true },
      (pattern, value) => (matchesWildcard(String(pattern), String(value)) ? 1 : 0));
    this.groupCommit = new GroupCommit(this.db, (fn) => this.tx(fn));
    const images = new SqliteImages(this.db, (fn) => this.tx(fn), (fn) => this.groupCommit.run(fn));
    const snapshots = new SqliteSnapshots(this.db, (fn) => this.tx(fn));
    this.images = images;
    this.tags = new SqliteTags(this.db, (fn) => this.tx(fn));
    this.snapshots = snapshots;
    this.volumes = new SqliteVolumes(this.db, (fn) => this.tx(fn));
    this.keys = new SqliteKeys(this.db, (fn) => this.tx(fn));
    this.instances = new SqliteInstances(this.db, (fn) => this.tx(fn));
    this.keyPairs = new SqliteKeyPairs(this.db, (fn) => this.tx(fn));
    this.accountSettings = new SqliteAccountSettings(this.db);
    this.recycleBin = new SqliteRecycleBin(this.db, (fn) => this.tx(fn), { images, snapshots });
    this.ssmParameters = new SqliteSsmParameters(this.db);
    this.network = new SqliteNetwork(this.db, (fn) => this.tx(fn));
    this.imageBuilder = new SqliteImageBuilder(this.db, (fn) => this.tx(fn));
    this.leases = new SqliteWorkLeases(this.db);
    this.copyScheduleState = new SqliteCopyScheduleState(this.db);
    this.nodes = new SqliteNodes(this.db);
    this.consoleSessions = new SqliteConsoleSessions(this.db);
  }

  /** Runs `fn` in one transaction; synchronous, so no other request interleaves. */
  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async reset(): Promise<void> {
    this.tx(() => this.db.exec('DELETE FROM tags; DELETE FROM launch_permissions; DELETE FROM image_client_tokens; DELETE FROM image_snapshots; DELETE FROM deregistered_image_snapshots; DELETE FROM images; DELETE FROM snapshot_blocks; DELETE FROM create_volume_permissions; DELETE FROM snapshots; DELETE FROM volume_blocks; DELETE FROM volume_journal; DELETE FROM volumes;'
      + ' DELETE FROM kms_grants; DELETE FROM kms_aliases; DELETE FROM kms_key_material; DELETE FROM kms_keys; DELETE FROM account_settings; ' + INSTANCE_RESET + RECYCLE_BIN_RESET + NETWORK_RESET + IMAGEBUILDER_RESET + SSM_PARAMETERS_RESET));
  }

  async close(): Promise<void> {
    this.groupCommit.flush();
    this.db.close();
  }
}

export class SqliteImages implements ImageRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  /** A transaction shared with the other writes of this event-loop turn (see group-commit.ts). */
  private readonly groupTx: <T>(fn: () => T) => Promise<T>;
  /**
   * Each scanned image's parsed document, frozen, by id, with the text it was parsed from:
   * DescribeImages reads the same images again and again, and parsing them was much of its cost.
   */
  private readonly parsed = new Map<string, { doc: string; image: StoredImage }>();
  constructor(db: DatabaseSync, tx: Tx, groupTx?: <T>(fn: () => T) => Promise<T>) {
    this.db = db;
    this.tx = tx;
    this.groupTx = groupTx ?? (async (fn) => tx(fn));
  }

  /** Keeps image_snapshots in step with the image's mappings (for InvalidSnapshot.InUse). */
  private writeSnapshotRefs(record: ImageRecord): void {
    const id = record.image.imageId;
    this.db.prepare('DELETE FROM image_snapshots WHERE image_id = ?').run(id);
    const insert = this.db.prepare('INSERT OR IGNORE INTO image_snapshots (image_id, snapshot_id) VALUES (?, ?)');
    for (const m of record.image.blockDeviceMappings ?? []) if (m.ebs?.snapshotId) insert.run(id, m.ebs.snapshotId);
  }

  private writePermissions(imageId: string, perms: LaunchPermission[]): void {
    this.db.prepare('DELETE FROM launch_permissions WHERE image_id = ?').run(imageId);
    const insert = this.db.prepare('INSERT OR IGNORE INTO launch_permissions (image_id, kind, value) VALUES (?, ?, ?)');
    for (const row of permissionRows(imageId, perms)) insert.run(...row);
  }

  private row(record: ImageRecord): SQLInputValue[] {
    const img = record.image;
    const isPublic = record.launchPermissions.some((p) => p.Group === 'all') ? 1 : 0;
    return [img.imageId, record.region, img.ownerId, img.ownerAlias ?? null, img.name, isPublic,
      JSON.stringify(img), JSON.stringify(record.launchPermissions)];
  }

  async insert(record: ImageRecord, tags?: { account: string; tags: Tag[] }, options: { requireSnapshots?: string[] } = {}): Promise<void> {
    await this.groupTx(() => this.insertInTx(record, tags, options));
  }

  /** insert's writes, for a caller already in a transaction (the Recycle Bin's restore). */
  insertInTx(record: ImageRecord, tags?: { account: string; tags: Tag[] }, options: { requireSnapshots?: string[] } = {}): void {
    const exists = this.db.prepare('SELECT 1 FROM snapshots WHERE snapshot_id = ? AND region = ?');
    for (const id of options.requireSnapshots ?? []) if (!exists.get(id, record.region)) throw Errors.snapshotNotFound(id);
    try {
      this.db.prepare(`INSERT INTO images (image_id, region, owner_id, owner_alias, name, is_public, doc, permissions)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(...this.row(record));
    } catch (err) {
      if ((err as { errcode?: number }).errcode === 2067 /* SQLITE_CONSTRAINT_UNIQUE */) {
        throw Errors.amiNameDuplicate(record.image.name);
      }
      throw err;
    }
    this.writePermissions(record.image.imageId, record.launchPermissions);
    this.writeSnapshotRefs(record);
    if (record.clientToken) {
      try {
        this.db.prepare('INSERT INTO image_client_tokens (image_id, region, owner_id, client_token, request_digest) VALUES (?, ?, ?, ?, ?)')
          .run(record.image.imageId, record.region, record.image.ownerId, record.clientToken.token, record.clientToken.requestDigest);
      } catch (err) {
        if ((err as { errcode?: number }).errcode === 2067 /* SQLITE_CONSTRAINT_UNIQUE */) throw Errors.idempotentParameterMismatch();
        throw err;
      }
    }
    if (tags?.tags.length) {
      putTags(this.db, tags.account, record.region, [{ id: record.image.imageId, type: 'image' }], tags.tags);
    }
  }

  async get(region: string, imageId: string): Promise<ImageRecord | undefined> {
    const row = this.db.prepare('SELECT region, doc, permissions FROM images WHERE image_id = ? AND region = ?')
      .get(imageId, region) as Row | undefined;
    return row && toRecord(row);
  }

  async findByClientToken(region: string, ownerId: string, token: string): Promise<ImageRecord | undefined> {
    const row = this.db.prepare(`SELECT i.region, i.doc, i.permissions, t.client_token, t.request_digest FROM image_client_tokens t
      JOIN images i ON i.image_id = t.image_id WHERE t.region = ? AND t.owner_id = ? AND t.client_token = ?`).get(region, ownerId, token) as Row | undefined;
    return row && { ...toRecord(row), clientToken: { token: String(row.client_token), requestDigest: String(row.request_digest) } };
  }

  async update(record: ImageRecord): Promise<void> {
    this.tx(() => {
      const [id, region, owner, alias, name, isPublic, doc, perms] = this.row(record);
      this.db.prepare(`UPDATE images SET owner_id = ?, owner_alias = ?, name = ?, is_public = ?, doc = ?, permissions = ?
        WHERE image_id = ? AND region = ?`).run(owner, alias, name, isPublic, doc, perms, id, region);
      this.writePermissions(record.image.imageId, record.launchPermissions);
      this.writeSnapshotRefs(record);
    });
  }

  async delete(region: string, imageId: string): Promise<boolean> {
    return this.tx(() => {
      this.db.prepare('DELETE FROM launch_permissions WHERE image_id = ?').run(imageId);
      this.db.prepare(`INSERT OR IGNORE INTO deregistered_image_snapshots (snapshot_id, image_id, region)
        SELECT s.snapshot_id, s.image_id, i.region FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
        WHERE s.image_id = ? AND i.region = ?`).run(imageId, region);
      this.db.prepare('DELETE FROM image_snapshots WHERE image_id = ?').run(imageId);
      this.db.prepare('DELETE FROM image_client_tokens WHERE image_id = ?').run(imageId);
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(imageId, region);
      return Number(this.db.prepare('DELETE FROM images WHERE image_id = ? AND region = ?').run(imageId, region).changes) > 0;
    });
  }

  async *scan(query: ImageQuery): AsyncIterable<ImageRecord> {
    const { where, params, nameIndex } = imageScanWhere(query);
    let after = query.afterImageId ?? '';
    if (nameIndex) {
      // A name prefix narrows the scan to a range of a name index, whose rows come in name
      // order: the matching ids are read (and sorted) once, then their records in batches.
      // Paging with the id cursor instead would read and sort the whole range for every batch.
      const ids = (this.db.prepare(`SELECT i.image_id FROM images i INDEXED BY ${nameIndex}
        WHERE ${where} AND i.image_id > ? ORDER BY i.image_id`).all(...params, after) as Row[]).map((r) => String(r.image_id));
      const fetch = this.db.prepare(`SELECT i.image_id, i.region, i.doc, i.permissions FROM images i
        WHERE i.image_id IN (SELECT value FROM json_each(?)) ORDER BY i.image_id`);
      for (let k = 0; k < ids.length; k += SCAN_BATCH) {
        const rows = fetch.all(JSON.stringify(ids.slice(k, k + SCAN_BATCH))) as Row[];
        for (const row of rows) yield this.scanned(row);
      }
      return;
    }
    // Otherwise an index gives the rows in id order and each batch resumes after the last id.
    // The first batch is no bigger than the caller expects to need (a MaxResults page).
    const stmt = this.db.prepare(`SELECT i.image_id, i.region, i.doc, i.permissions FROM images i
      WHERE ${where} AND i.image_id > ? ORDER BY i.image_id LIMIT ?`);
    let batch = Math.min(SCAN_BATCH, Math.max(1, query.expectedCount ?? SCAN_BATCH));
    for (;;) {
      const rows = stmt.all(...params, after, batch) as Row[];
      for (const row of rows) yield this.scanned(row);
      if (rows.length < batch) return;
      after = String(rows[rows.length - 1].image_id);
      batch = SCAN_BATCH;
    }
  }

  async table(query: ImageTableQuery): Promise<ImageTablePage> {
    return sqliteImageTable(this.db, query, (row) => toRecord(row));
  }

  async derivedFrom(sourceImageId: string): Promise<ImageRecord[]> {
    return (this.db.prepare(`SELECT region, doc, permissions FROM images WHERE json_extract(doc, '$.sourceImageId') = ? ORDER BY image_id`)
      .all(sourceImageId) as Row[]).map((row) => toRecord(row));
  }

  /** A scanned row's record, its image document parsed once while its text is unchanged. */
  private scanned(row: Row): ImageRecord {
    const id = String(row.image_id);
    const doc = String(row.doc);
    let hit = this.parsed.get(id);
    if (hit?.doc !== doc) {
      if (hit) this.parsed.delete(id);
      else if (this.parsed.size >= MAX_PARSED_IMAGES) this.parsed.delete(this.parsed.keys().next().value!);
      hit = { doc, image: deepFreeze(JSON.parse(doc) as StoredImage) };
      this.parsed.set(id, hit);
    }
    return toRecord(row, hit.image);
  }

  async count(): Promise<number> {
    return Number((this.db.prepare('SELECT count(*) AS n FROM images').get() as Row).n);
  }

  async inState(state: string): Promise<ImageRecord[]> {
    return (this.db.prepare(`SELECT region, doc, permissions FROM images WHERE json_extract(doc, '$.state') = ?`).all(state) as Row[]).map((row) => toRecord(row));
  }
}

/** The row's record; `image` when the caller already has its document parsed. */
function toRecord(row: Row, image?: StoredImage): ImageRecord {
  const doc = String(row.doc);
  const permissions = String(row.permissions);
  const record: ImageRecord = {
    region: String(row.region),
    image: image ?? JSON.parse(doc),
    // Most images are shared with no one: skip the parser for the empty list.
    launchPermissions: permissions === '[]' ? [] : JSON.parse(permissions),
  };
  // The row's own text is the revision: every change to the image rewrites it. Most images are
  // shared with no one, and then the document alone is the row's text (no copy made).
  return Object.defineProperty(record, 'revision', { value: permissions === '[]' ? doc : `${permissions}\u0000${doc}` });
}

/**
 * The scan's WHERE clause (without the id cursor) and, when the name patterns share a literal
 * prefix, the index whose range holds them. Every list travels as one JSON parameter read with
 * json_each: one `?` per value overflowed SQLite's 32,766 bound parameters (and an OR per
 * pattern its expression depth) on long request lists.
 */
function imageScanWhere(q: ImageQuery): { where: string; params: SQLInputValue[]; nameIndex?: string } {
  const where: string[] = ['i.region = ?'];
  const params: SQLInputValue[] = [q.region];
  const list = (values: string[]) => JSON.stringify(values);
  const v = q.visibleTo;
  const grantees = [v.organizationArn, ...(v.organizationalUnitArns ?? [])].filter((x): x is string => !!x);
  where.push(`(i.owner_id = ? OR i.is_public = 1 OR EXISTS (SELECT 1 FROM launch_permissions lp WHERE lp.image_id = i.image_id
    AND ((lp.kind = 'user' AND lp.value = ?) OR (lp.kind IN ('org', 'ou') AND lp.value IN (SELECT value FROM json_each(?))))))`);
  params.push(v.account, v.account, list(grantees));
  if (q.imageIds) {
    where.push('i.image_id IN (SELECT value FROM json_each(?))');
    params.push(list(q.imageIds));
  }
  let oneOwner = false;
  if (q.ownerIds || q.ownerAliases) {
    const ids = q.ownerIds ?? [];
    const aliases = q.ownerAliases ?? [];
    oneOwner = ids.length === 1 && !aliases.length;
    // The common cases, Owners=self or one account or one alias (amazon), are equalities, so an
    // (owner, region, image_id) index yields the owner's images in page order.
    if (oneOwner) {
      where.push('i.owner_id = ?');
      params.push(ids[0]);
    } else if (!ids.length && aliases.length === 1) {
      where.push('i.owner_alias = ?');
      params.push(aliases[0]);
    } else {
      where.push('(i.owner_id IN (SELECT value FROM json_each(?)) OR i.owner_alias IN (SELECT value FROM json_each(?)))');
      params.push(list(ids), list(aliases));
    }
  }
  if (q.executableBy) {
    const { accounts, includePublic, orgs } = q.executableBy;
    where.push(`(${includePublic ? 'i.is_public = 1' : '0'} OR EXISTS (SELECT 1 FROM launch_permissions lp WHERE lp.image_id = i.image_id
      AND ((lp.kind = 'user' AND lp.value IN (SELECT value FROM json_each(?))) OR (lp.kind IN ('org', 'ou') AND lp.value IN (SELECT value FROM json_each(?))))))`);
    params.push(list(accounts), list(orgs));
  }
  let nameIndex: string | undefined;
  if (q.namePatterns) {
    where.push('EXISTS (SELECT 1 FROM json_each(?) p WHERE ec2_wildcard(p.value, i.name))');
    params.push(list(q.namePatterns));
    const range = wildcardRange(q.namePatterns);
    if (range) {
      where.push('i.name >= ? AND i.name < ?');
      params.push(...range);
      nameIndex = oneOwner ? 'images_owner_name' : 'images_region_name';
    }
  }
  for (const t of q.tagFilters ?? []) {
    const valueClause = t.values ? ' AND EXISTS (SELECT 1 FROM json_each(?) p WHERE ec2_wildcard(p.value, t.value))' : '';
    where.push(`EXISTS (SELECT 1 FROM tags t WHERE t.account = ? AND t.region = i.region AND t.resource_id = i.image_id AND t.key = ?${valueClause})`);
    params.push(v.account, t.key, ...(t.values ? [list(t.values)] : []));
  }
  return { where: where.join(' AND '), params, nameIndex };
}

