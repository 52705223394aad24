// Server configuration, parsed once at start-up into a frozen object and passed down.
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly accountsFile?: string;
  readonly catalogFile: string;
  readonly enableReset: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where the KMS root key comes from: a file, the environment (base64), or DATA_DIR/kms-root.key. */
  readonly kmsRootKey: { file: string } | { base64: string } | { dataDirFile: string };
  /** Instances an account may have (not terminated) in a region; RunInstances beyond it is InstanceLimitExceeded. */
  readonly instanceLimit: number;
  /**
   * The hypervisor driver and its settings: `sim` (no guest runs; bootMs is its boot time) or
   * `qemu` (real guests of the base image in baseImageDir).
   */
  readonly hypervisor: { readonly driver: 'sim' | 'qemu'; readonly bootMs: number };
  /** The built base image (scripts/build-base-image.sh): the QEMU driver's kernel, the catalogue's amiforge-minimal-linux. */
  readonly baseImageDir: string;
  /** Where disk builds are, one directory each (scripts/build-debian-image.sh: debian-12): the catalogue's `rootDisk` images. */
  readonly imageBuildDir: string;
  /** Scheduled image copies (docs/copy-schedules.md); none when absent. */
  readonly copySchedulesFile?: string;
}

export const DEFAULT_CATALOG = fileURLToPath(new URL('../../catalog/default.json', import.meta.url));
/** Where scripts/build-base-image.sh builds; AMIFORGE_BASE_IMAGE_DIR overrides it. */
export const DEFAULT_BASE_IMAGE_DIR = fileURLToPath(new URL('../../.amiforge-build/base-image', import.meta.url));

/** Where the disk image builds go; AMIFORGE_IMAGE_BUILD_DIR overrides it. */
export const DEFAULT_IMAGE_BUILD_DIR = fileURLToPath(new URL('../../.amiforge-build', import.meta.url));

export interface ServeOptions {
  host?: string;
  port?: string | number;
  dataDir?: string;
  accounts?: string;
  catalog?: string;
  enableReset?: boolean;
  logLevel?: string;
  kmsRootKeyFile?: string;
  instanceLimit?: string | number;
  hypervisor?: string;
  simBootMs?: string | number;
  copySchedules?: string;
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
  const instanceLimit = Number(o.instanceLimit ?? 1000);
  if (!Number.isInteger(instanceLimit) || instanceLimit < 0) throw new ConfigError(`--instance-limit must be a whole number, got ${o.instanceLimit}`);
  const driver = o.hypervisor ?? 'sim';
  if (driver !== 'sim' && driver !== 'qemu') throw new ConfigError(`--hypervisor must be sim or qemu, got ${o.hypervisor}`);
  const bootMs = Number(o.simBootMs ?? 300);
  if (!Number.isInteger(bootMs) || bootMs < 0 || bootMs > 600_000) throw new ConfigError(`--sim-boot-ms must be 0 to 600000, got ${o.simBootMs}`);
  return Object.freeze({
    host,
    port,
    dataDir,
    accountsFile: o.accounts ? resolve(o.accounts) : undefined,
    catalogFile: o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG,
    enableReset: !!o.enableReset,
    logLevel,
    kmsRootKey: kmsRootKey(o, env, dataDir),
    instanceLimit,
    hypervisor: Object.freeze({ driver, bootMs }),
    baseImageDir: resolve(env.AMIFORGE_BASE_IMAGE_DIR || DEFAULT_BASE_IMAGE_DIR),
    imageBuildDir: resolve(env.AMIFORGE_IMAGE_BUILD_DIR || DEFAULT_IMAGE_BUILD_DIR),
    copySchedulesFile: o.copySchedules ? resolve(o.copySchedules) : undefined,
  });
}
