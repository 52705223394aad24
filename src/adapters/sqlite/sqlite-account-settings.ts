// Account settings in SQLite: one JSON document per (account, region, name).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type {
  AccountSettingsRepository, AllowedImagesSettings, BlockPublicAccessKind, BlockPublicAccessStates, EbsEncryptionDefaults,
} from '../../ports/account-settings.ts';

export const ACCOUNT_SETTINGS_SCHEMA = `
CREATE TABLE IF NOT EXISTS account_settings (
  account TEXT NOT NULL,
  region  TEXT NOT NULL,
  name    TEXT NOT NULL,
  doc     TEXT NOT NULL,
  PRIMARY KEY (account, region, name)
);`;

export class SqliteAccountSettings implements AccountSettingsRepository {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async ebsEncryption(account: string, region: string): Promise<EbsEncryptionDefaults> {
    const row = this.db.prepare("SELECT doc FROM account_settings WHERE account = ? AND region = ? AND name = 'ebs-encryption'")
      .get(account, region) as Record<string, SQLInputValue> | undefined;
    return row ? JSON.parse(String(row.doc)) : { encryptByDefault: false };
  }

  async setEbsEncryption(account: string, region: string, value: EbsEncryptionDefaults): Promise<void> {
    this.db.prepare("INSERT OR REPLACE INTO account_settings (account, region, name, doc) VALUES (?, ?, 'ebs-encryption', ?)")
      .run(account, region, JSON.stringify(value));
  }

  async blockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K): Promise<BlockPublicAccessStates[K]> {
    const row = this.db.prepare('SELECT doc FROM account_settings WHERE account = ? AND region = ? AND name = ?')
      .get(account, region, `${kind}-block-public-access`) as Record<string, SQLInputValue> | undefined;
    return row ? JSON.parse(String(row.doc)).state : 'unblocked';
  }

  async setBlockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K, state: BlockPublicAccessStates[K]): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO account_settings (account, region, name, doc) VALUES (?, ?, ?, ?)')
      .run(account, region, `${kind}-block-public-access`, JSON.stringify({ state }));
  }

  async allowedImages(account: string, region: string): Promise<AllowedImagesSettings> {
    const row = this.db.prepare("SELECT doc FROM account_settings WHERE account = ? AND region = ? AND name = 'allowed-images'")
      .get(account, region) as Record<string, SQLInputValue> | undefined;
    return row ? JSON.parse(String(row.doc)) : { state: 'disabled', criteria: [] };
  }

  async setAllowedImages(account: string, region: string, value: AllowedImagesSettings): Promise<void> {
    this.db.prepare("INSERT OR REPLACE INTO account_settings (account, region, name, doc) VALUES (?, ?, 'allowed-images', ?)")
      .run(account, region, JSON.stringify(value));
  }
}
