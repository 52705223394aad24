// Server configuration, parsed once at start-up into a frozen object and passed down.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBlocksOptions, type BlocksConfig, type BlocksOptions } from './blocks.ts';
import { DatabaseUrlError, parseDatabaseTarget, type DatabaseTarget } from './database.ts';
import { ipv4BlockSize, ipv4Contains, ipv4ToInt, parseIpv4Cidr } from '../domain/network/cidr.ts';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Where blocks are kept: the data directory's `blocks` folder or an S3 bucket (src/config/blocks.ts). */
  readonly blocks: BlocksConfig;
  /** The metadata database: SQLite in dataDir, or PostgreSQL (--database / AMIFORGE_DATABASE_URL). */
  readonly database: DatabaseTarget;
  readonly accountsFile?: string;
  /** The operators' bearer token (docs/operators.md), read once at start-up. */
  readonly operatorTokenFile?: string;
  readonly catalogFile: string;
  readonly enableReset: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where the KMS root key comes from: a file, the environment (base64), or DATA_DIR/kms-root.key. */
  readonly kmsRootKey: { file: string } | { base64: string } | { dataDirFile: string };
  /** Instances an account may have (not terminated) in a region; RunInstances beyond it is InstanceLimitExceeded. */
  readonly instanceLimit: number;
  /**
   * The hypervisor driver and its settings: `sim` (no guest runs; bootMs is its boot time) or
   * `qemu` (real guests of the base image in baseImageDir). forwardPortOffset: a guest port
   * forwarded to the host is reached at guest port + this (docs/qemu-driver.md).
   */
  readonly hypervisor: { readonly driver: 'sim' | 'qemu'; readonly bootMs: number; readonly forwardPortOffset: number };
  /** The built base image (scripts/build-base-image.sh): the QEMU driver's kernel, the catalogue's amiforge-minimal-linux. */
  readonly baseImageDir: string;
  /**
   * The build directory (.amiforge-build): catalogue entries name their files relative to it
   * (`base-image/vmlinux`), and disk builds are directories in it (scripts/build-debian-image.sh: debian-12).
   */
  readonly buildDir: string;
  /** Scheduled image copies (docs/copy-schedules.md); none when absent. */
  readonly copySchedulesFile?: string;
  /**
   * Running instances' own host addresses (their PublicIpAddress), on which the ports their
   * security groups allow are forwarded: `first`..`last` of `range` (docs/networking.md).
   */
  readonly network: { readonly publicAddressRange: string; readonly first: number; readonly last: number };
  /** Dirty 512 KiB blocks a volume in use may hold in memory before it is flushed (0: none, every write stored at once). */
  readonly volumeWriteBuffer: number;
  /** This node's name among the serve processes sharing one store (docs/cluster-instances.md). */
  readonly nodeId: string;
  /**
   * Without --node-id: DATA_DIR/node-id, where the default id is kept (written at the first
   * start), so every later start of this data directory is the same node.
   */
  readonly nodeIdFile?: string;
  /** Where other nodes reach this one (forwarded requests); undefined: http://host:port as listened. */
  readonly advertiseUrl?: string;
  /** A node without a heartbeat for this long is gone; heartbeats are sent every third of it. */
  readonly leaseMs: number;
  /** How long a web console session lasts after sign-in (--console-session-hours). */
  readonly consoleSessionMs: number;
}

export const DEFAULT_CATALOG = fileURLToPath(new URL('../../catalog/default.json', import.meta.url));
/** Where the build scripts put what they build; AMIFORGE_BUILD_DIR overrides it. */
export const DEFAULT_BUILD_DIR = fileURLToPath(new URL('../../.amiforge-build', import.meta.url));

export interface ServeOptions extends BlocksOptions {
  host?: string;
  port?: string | number;
  dataDir?: string;
  database?: string;
  accounts?: string;
  operatorTokenFile?: string;
  catalog?: string;
  enableReset?: boolean;
  logLevel?: string;
  kmsRootKeyFile?: string;
  instanceLimit?: string | number;
  hypervisor?: string;
  simBootMs?: string | number;
  forwardPortOffset?: string | number;
  copySchedules?: string;
  publicAddressRange?: string;
  allowPublicForwarding?: boolean;
  volumeWriteBuffer?: string | number;
  nodeId?: string;
  advertiseUrl?: string;
  leaseSeconds?: string | number;
  consoleSessionHours?: string | number;
}

export class ConfigError extends Error {}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** AMIFORGE_KMS_ROOT_KEY: the KMS root key as base64 of 32 bytes. */
export const KMS_ROOT_KEY_ENV = 'AMIFORGE_KMS_ROOT_KEY';

function kmsRootKey(o: ServeOptions, env: NodeJS.ProcessEnv, dataDir: string): ServerConfig['kmsRootKey'] {
  if (o.kmsRootKeyFile) return { file: resolve(o.kmsRootKeyFile) };
  const base64 = env[KMS_ROOT_KEY_ENV]?.trim();
  if (base64) {
    if (Buffer.from(base64, 'base64').length !== 32 || !/^[A-Za-z0-9+/]{43}=$/.test(base64)) {
      throw new ConfigError(`${KMS_ROOT_KEY_ENV} must be 32 bytes in base64 (44 characters), e.g. from: openssl rand -base64 32`);
    }
    return { base64 };
  }
  return { dataDirFile: join(dataDir, 'kms-root.key') };
}

/** The default host address range: loopback, so forwarded guest ports are reachable from this host only. */
export const DEFAULT_PUBLIC_ADDRESS_RANGE = '127.100.0.0/16';

function networkOptions(o: ServeOptions): ServerConfig['network'] {
  const range = o.publicAddressRange ?? DEFAULT_PUBLIC_ADDRESS_RANGE;
  const block = parseIpv4Cidr(range);
  if (!block || block.prefix < 8 || block.prefix > 30) {
    throw new ConfigError(`--public-address-range must be an IPv4 CIDR block from /8 to /30 with no host bits set, got ${range}`);
  }
  const loopback = parseIpv4Cidr('127.0.0.0/8')!;
  const inLoopback = ipv4Contains(loopback, block.base) && ipv4Contains(loopback, block.base + ipv4BlockSize(block) - 1);
  if (!inLoopback && !o.allowPublicForwarding) {
    throw new ConfigError(`--public-address-range ${range} is beyond loopback (127.0.0.0/8): guests' ports would be reachable from other machines. Add --allow-public-forwarding if that is meant.`);
  }
  // The block's first address (127.100.0.0) and last are left out, as a network's are.
  const first = block.base + 1;
  const last = block.base + ipv4BlockSize(block) - 2;
  if (ipv4Contains(block, ipv4ToInt('127.0.0.1'))) {
    throw new ConfigError(`--public-address-range ${range} contains 127.0.0.1, where amiforge itself listens; pick a block such as ${DEFAULT_PUBLIC_ADDRESS_RANGE}`);
  }
  return Object.freeze({ publicAddressRange: range, first, last });
}

/**
 * The default node id: the one kept in DATA_DIR/node-id, or a new random one (kept there by the
 * server once it starts). The same at every start of one data directory -- whatever the host
 * name, which a container gets new -- so a node restarted after a crash finds its instances as
 * its own and boots them again, as a lone amiforge always did. Nodes sharing one data directory
 * need --node-id each (a second live node with the same id is refused at start).
 */
function defaultNodeId(file: string): string {
  let kept: string | undefined;
  try {
    kept = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (kept !== undefined && !NODE_ID.test(kept)) throw new ConfigError(`${file} does not hold a node id; remove it or give --node-id`);
  return kept ?? `node-${randomBytes(4).toString('hex')}`;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function clusterOptions(o: ServeOptions, dataDir: string): Pick<ServerConfig, 'nodeId' | 'nodeIdFile' | 'advertiseUrl' | 'leaseMs'> {
  const nodeIdFile = o.nodeId === undefined ? join(dataDir, 'node-id') : undefined;
  const nodeId = nodeIdFile ? defaultNodeId(nodeIdFile) : o.nodeId!;
  if (!NODE_ID.test(nodeId)) {
    throw new ConfigError(`--node-id must be 1-63 letters, digits, '.', '_' or '-', got ${o.nodeId}`);
  }
  let advertiseUrl: string | undefined;
  if (o.advertiseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(o.advertiseUrl);
    } catch {
      throw new ConfigError(`--advertise-url must be an http:// or https:// URL, got ${o.advertiseUrl}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) {
      throw new ConfigError(`--advertise-url must be an http:// or https:// URL with no path, query or credentials, got ${o.advertiseUrl}`);
    }
    advertiseUrl = url.origin;
  }
  const leaseSeconds = Number(o.leaseSeconds ?? 30);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1 || leaseSeconds > 3600) {
    throw new ConfigError(`--lease-seconds must be 1 to 3600, got ${o.leaseSeconds}`);
  }
  return { nodeId, nodeIdFile, advertiseUrl, leaseMs: leaseSeconds * 1000 };
}

export function parseServeOptions(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = Number(o.port ?? 4566);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be 0-65535, got ${o.port}`);
  const host = o.host ?? '127.0.0.1';
  const logLevel = (o.logLevel ?? 'info') as ServerConfig['logLevel'];
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}`);
  if (!o.accounts && !isLoopback(host)) {
    throw new ConfigError(
      `Refusing to listen on ${host} in dev mode (any access key accepted, signatures unchecked). ` +
      'Give --accounts FILE to verify signatures, or listen on 127.0.0.1.');
  }
  const dataDir = resolve(o.dataDir ?? join(process.cwd(), '.amiforge'));
  let blocks: BlocksConfig;
  try {
    blocks = parseBlocksOptions(o, dataDir);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const instanceLimit = Number(o.instanceLimit ?? 1000);
  if (!Number.isInteger(instanceLimit) || instanceLimit < 0) throw new ConfigError(`--instance-limit must be a whole number, got ${o.instanceLimit}`);
  const driver = o.hypervisor ?? 'sim';
  if (driver !== 'sim' && driver !== 'qemu') throw new ConfigError(`--hypervisor must be sim or qemu, got ${o.hypervisor}`);
  const bootMs = Number(o.simBootMs ?? 300);
  if (!Number.isInteger(bootMs) || bootMs < 0 || bootMs > 600_000) throw new ConfigError(`--sim-boot-ms must be 0 to 600000, got ${o.simBootMs}`);
  const forwardPortOffset = Number(o.forwardPortOffset ?? 0);
  if (!Number.isInteger(forwardPortOffset) || forwardPortOffset < 0 || forwardPortOffset > 64511) {
    throw new ConfigError(`--forward-port-offset must be 0 to 64511, got ${o.forwardPortOffset}`);
  }
  const volumeWriteBuffer = Number(o.volumeWriteBuffer ?? 32);
  if (!Number.isInteger(volumeWriteBuffer) || volumeWriteBuffer < 0 || volumeWriteBuffer > 4096) {
    throw new ConfigError(`--volume-write-buffer must be 0 to 4096 blocks, got ${o.volumeWriteBuffer}`);
  }
  const consoleSessionHours = Number(o.consoleSessionHours ?? 12);
  if (!Number.isFinite(consoleSessionHours) || consoleSessionHours <= 0 || consoleSessionHours > 24 * 30) {
    throw new ConfigError(`--console-session-hours must be more than 0 and at most 720, got ${o.consoleSessionHours}`);
  }
  let database: DatabaseTarget;
  try {
    database = parseDatabaseTarget(o.database, env);
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new ConfigError(err.message);
    throw err;
  }
  const buildDir = resolve(env.AMIFORGE_BUILD_DIR || DEFAULT_BUILD_DIR);
  return Object.freeze({
    host,
    port,
    dataDir,
    blocks,
    database,
    accountsFile: o.accounts ? resolve(o.accounts) : undefined,
    operatorTokenFile: o.operatorTokenFile ? resolve(o.operatorTokenFile) : undefined,
    catalogFile: o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG,
    enableReset: !!o.enableReset,
    logLevel,
    kmsRootKey: kmsRootKey(o, env, dataDir),
    instanceLimit,
    hypervisor: Object.freeze({ driver, bootMs, forwardPortOffset }),
    // scripts/build-base-image.sh builds into BUILD_DIR/base-image; AMIFORGE_BASE_IMAGE_DIR overrides it.
    baseImageDir: resolve(env.AMIFORGE_BASE_IMAGE_DIR || join(buildDir, 'base-image')),
    buildDir,
    copySchedulesFile: o.copySchedules ? resolve(o.copySchedules) : undefined,
    network: networkOptions(o),
    volumeWriteBuffer,
    consoleSessionMs: Math.round(consoleSessionHours * 3_600_000),
    ...clusterOptions(o, dataDir),
  });
}
