// The KMS root key, read once at start-up from where the config says: a file (32 raw bytes, or
// their base64), AMIFORGE_KMS_ROOT_KEY, or DATA_DIR/kms-root.key, which is generated (mode 0600)
// the first time a data directory is used without a root key given.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServerConfig } from '../config/config.ts';
import { ROOT_KEY_BYTES } from '../domain/kms/key-vault.ts';
import type { Logger } from './logger.ts';

function decodeKey(raw: Buffer, where: string): Buffer {
  if (raw.length === ROOT_KEY_BYTES) return raw;
  const text = raw.toString('latin1').trim();
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  throw new Error(`${where}: a KMS root key is ${ROOT_KEY_BYTES} bytes, raw or in base64 (e.g. openssl rand -base64 32 > ${where})`);
}

function readKeyFile(file: string, log: Logger): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the KMS root key file ${file}: ${(err as Error).message}`);
  }
  if (statSync(file).mode & 0o077) log.warn({ file }, 'the KMS root key file is readable by other users; chmod 600 it');
  return decodeKey(raw, file);
}

export function loadKmsRootKey(source: ServerConfig['kmsRootKey'], log: Logger): Buffer {
  if ('file' in source) return readKeyFile(source.file, log);
  if ('base64' in source) return Buffer.from(source.base64, 'base64');
  const file = source.dataDirFile;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(ROOT_KEY_BYTES);
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    log.warn({ file }, 'generated a KMS root key; back it up: without it the KMS keys in this data directory cannot be used');
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readKeyFile(file, log);
}
