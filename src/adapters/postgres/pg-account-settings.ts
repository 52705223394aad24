// Account settings in PostgreSQL: one JSON document per (account, region, name). Each write is a
// single upsert, so concurrent nodes simply leave the last one written.
import type {
  AccountSettingsRepository, AllowedImagesSettings, BlockPublicAccessKind, BlockPublicAccessStates, EbsEncryptionDefaults,
} from '../../ports/account-settings.ts';
import type { PgDatabase } from './pg-database.ts';

export class PgAccountSettings implements AccountSettingsRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  private async read<T>(account: string, region: string, name: string): Promise<T | undefined> {
    const [row] = await this.db.query<{ doc: T }>('SELECT doc FROM account_settings WHERE account = $1 AND region = $2 AND name = $3',
      [account, region, name]);
    return row?.doc;
  }

  private async write(account: string, region: string, name: string, doc: unknown): Promise<void> {
    await this.db.query(`INSERT INTO account_settings (account, region, name, doc) VALUES ($1, $2, $3, $4)
      ON CONFLICT (account, region, name) DO UPDATE SET doc = excluded.doc`, [account, region, name, JSON.stringify(doc)]);
  }

  async ebsEncryption(account: string, region: string): Promise<EbsEncryptionDefaults> {
    return (await this.read<EbsEncryptionDefaults>(account, region, 'ebs-encryption')) ?? { encryptByDefault: false };
  }

  async setEbsEncryption(account: string, region: string, value: EbsEncryptionDefaults): Promise<void> {
    await this.write(account, region, 'ebs-encryption', value);
  }

  async blockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K): Promise<BlockPublicAccessStates[K]> {
    const doc = await this.read<{ state: BlockPublicAccessStates[K] }>(account, region, `${kind}-block-public-access`);
    return doc ? doc.state : 'unblocked';
  }

  async setBlockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K, state: BlockPublicAccessStates[K]): Promise<void> {
    await this.write(account, region, `${kind}-block-public-access`, { state });
  }

  async allowedImages(account: string, region: string): Promise<AllowedImagesSettings> {
    return (await this.read<AllowedImagesSettings>(account, region, 'allowed-images')) ?? { state: 'disabled', criteria: [] };
  }

  async setAllowedImages(account: string, region: string, value: AllowedImagesSettings): Promise<void> {
    await this.write(account, region, 'allowed-images', value);
  }
}
