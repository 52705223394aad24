// The KMS part of the metadata store port: keys, their key material (only ever wrapped under the
// root key: the adapter stores bytes it cannot read), aliases and grants. Every key belongs to one
// account and region; aliases are per account and region; grants hang off their key.
import type { Tag } from '../protocol/kms/types.generated.ts';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KeyRecord {
  region: string;
  account: string;
  /** A UUID, unique across regions and accounts. */
  keyId: string;
  arn: string;
  description: string;
  /** CUSTOMER keys are the account's; AWS keys are AWS managed (alias/aws/ebs). */
  keyManager: 'CUSTOMER' | 'AWS';
  state: KeyState;
  creationDate: string;
  /** PendingDeletion only: when the key is deleted, and the window that was asked for. */
  deletionDate?: string;
  pendingWindowInDays?: number;
  /** The key policy document, as given (or the default one). */
  policy: string;
  tags: Tag[];
  /** The key material version new ciphertexts are made with. */
  materialVersion: number;
}

export interface AliasRecord {
  account: string;
  region: string;
  /** `alias/...` */
  aliasName: string;
  targetKeyId: string;
  creationDate: string;
  lastUpdatedDate: string;
}

export interface GrantConstraintsRecord {
  encryptionContextSubset?: Record<string, string>;
  encryptionContextEquals?: Record<string, string>;
}

export interface GrantRecord {
  grantId: string;
  keyId: string;
  region: string;
  name?: string;
  granteePrincipal: string;
  /** The account the grantee principal belongs to (what grants are looked up by). */
  granteeAccount: string;
  retiringPrincipal?: string;
  issuingAccount: string;
  operations: string[];
  constraints?: GrantConstraintsRecord;
  creationDate: string;
}

export interface KeyQuery {
  account: string;
  region: string;
  /** Only keys whose id sorts after this one: the basis of paging. */
  afterKeyId?: string;
}

export interface AliasQuery {
  account: string;
  region: string;
  targetKeyId?: string;
  afterAliasName?: string;
}

export interface GrantQuery {
  granteeAccount?: string;
  grantId?: string;
  afterGrantId?: string;
}

export interface KeyRepository {
  /**
   * Stores a new key with its first wrapped key material and, in the same transaction, an alias
   * naming it. Returns false, storing nothing, when the alias already exists.
   */
  insert(key: KeyRecord, wrappedMaterial: Uint8Array, alias?: AliasRecord): Promise<boolean>;
  get(region: string, keyId: string): Promise<KeyRecord | undefined>;
  update(key: KeyRecord): Promise<void>;
  /** Deletes the key with its key material, the aliases that name it and its grants. */
  delete(region: string, keyId: string): Promise<boolean>;
  /** An account's keys in a region, in key id order, read lazily. */
  scan(query: KeyQuery): AsyncIterable<KeyRecord>;
  /** The wrapped key material of a key's version. */
  material(keyId: string, version: number): Promise<Uint8Array | undefined>;

  getAlias(account: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  /** False when the account already has an alias of that name in the region. */
  insertAlias(alias: AliasRecord): Promise<boolean>;
  /** Points an existing alias at another key; false when there is no such alias. */
  updateAlias(alias: AliasRecord): Promise<boolean>;
  deleteAlias(account: string, region: string, aliasName: string): Promise<boolean>;
  /** An account's aliases in a region, in name order. */
  scanAliases(query: AliasQuery): AsyncIterable<AliasRecord>;

  insertGrant(grant: GrantRecord): Promise<void>;
  deleteGrant(keyId: string, grantId: string): Promise<boolean>;
  /** A key's grants in grant id order, narrowed by the query. */
  grants(keyId: string, query?: GrantQuery): AsyncIterable<GrantRecord>;
  /** Grants in a region whose retiring principal is exactly `principal`, in grant id order. */
  retirableBy(region: string, principal: string, afterGrantId?: string): AsyncIterable<GrantRecord>;

  /** A fingerprint of the root key the material is wrapped under; kept across reset(). */
  rootKeyFingerprint(): Promise<string | undefined>;
  setRootKeyFingerprint(fingerprint: string): Promise<void>;
}
