// EC2 key pairs: CreateKeyPair (the private key is returned once and never stored),
// ImportKeyPair, DescribeKeyPairs and DeleteKeyPair. RunInstances' KeyName is checked against
// them, and the public key is served to the instance as its metadata.
import type {
  CreateKeyPairRequest, DeleteKeyPairRequest, DescribeKeyPairsRequest, ImportKeyPairRequest, ImportKeyPairResult, KeyPair, KeyPairInfo,
} from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { KeyPairRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../filters.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import { generateKey, KeyFormatError, parsePublicKey } from './key-material.ts';

export interface KeyPairServiceDeps { store: MetadataStore; clock: Clock; ids: IdGenerator }

const keyPairFilters: FilterMap<KeyPairRecord> = {
  'key-pair-id': (k) => k.keyPairId,
  'key-name': (k) => k.keyName,
  'fingerprint': (k) => k.fingerprint,
};

function checkName(name: string): void {
  // EC2: "Up to 255 ASCII characters".
  if (!name.length || name.length > 255 || !/^[\x20-\x7e]+$/.test(name)) {
    throw Errors.invalidParameterValue(`Value (${name}) for parameter KeyName is invalid. Key names are 1 to 255 ASCII characters.`);
  }
}

export class KeyPairService {
  private readonly deps: KeyPairServiceDeps;
  constructor(deps: KeyPairServiceDeps) {
    this.deps = deps;
  }

  private async insert(caller: Caller, r: KeyPairRecord, specs: CreateKeyPairRequest['TagSpecifications']): Promise<{ Key?: string; Value?: string }[]> {
    const tags = tagsFor(specs, ['key-pair'], 'key-pair');
    if (!(await this.deps.store.keyPairs.insert(r, { account: caller.account, tags }))) throw Errors.keyPairDuplicate(r.keyName);
    return tags;
  }

  private record(caller: Caller, keyName: string, key: { type: 'rsa' | 'ed25519'; publicKey: string; fingerprint: string }): KeyPairRecord {
    return {
      region: caller.region, keyPairId: this.deps.ids.next('key'), ownerId: caller.account, keyName, keyType: key.type,
      publicKey: key.publicKey, fingerprint: key.fingerprint, createTime: this.deps.clock.now().toISOString(),
    };
  }

  async create(caller: Caller, req: CreateKeyPairRequest): Promise<KeyPair> {
    checkName(req.KeyName);
    if (req.KeyFormat === 'ppk') throw Errors.unsupportedOperation('amiforge returns private keys in pem format only; omit KeyFormat or pass pem.');
    if (await this.deps.store.keyPairs.byName(caller.region, caller.account, req.KeyName)) throw Errors.keyPairDuplicate(req.KeyName);
    const key = generateKey(req.KeyType ?? 'rsa', req.KeyName);
    const r = this.record(caller, req.KeyName, key);
    const tags = await this.insert(caller, r, req.TagSpecifications);
    return { KeyPairId: r.keyPairId, KeyName: r.keyName, KeyFingerprint: r.fingerprint, KeyMaterial: key.privateKey, Tags: tags.length ? tags : undefined };
  }

  async import(caller: Caller, req: ImportKeyPairRequest): Promise<ImportKeyPairResult> {
    checkName(req.KeyName);
    let key;
    try {
      key = parsePublicKey(Buffer.from(req.PublicKeyMaterial));
    } catch (err) {
      if (err instanceof KeyFormatError) throw Errors.keyFormat(err.message);
      throw err;
    }
    const r = this.record(caller, req.KeyName, key);
    const tags = await this.insert(caller, r, req.TagSpecifications);
    return { KeyPairId: r.keyPairId, KeyName: r.keyName, KeyFingerprint: r.fingerprint, Tags: tags.length ? tags : undefined };
  }

  async describe(caller: Caller, req: DescribeKeyPairsRequest): Promise<{ KeyPairs: KeyPairInfo[] }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, keyPairFilters);
    const all = await this.deps.store.keyPairs.list(caller.region, caller.account);
    for (const name of req.KeyNames ?? []) if (!all.some((k) => k.keyName === name)) throw Errors.keyPairNotFound(name);
    for (const id of req.KeyPairIds ?? []) if (!all.some((k) => k.keyPairId === id)) throw Errors.keyPairIdNotFound(id);
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, all.map((k) => k.keyPairId));
    const out: KeyPairInfo[] = [];
    for (const k of all) {
      if (req.KeyNames?.length && !req.KeyNames.includes(k.keyName)) continue;
      if (req.KeyPairIds?.length && !req.KeyPairIds.includes(k.keyPairId)) continue;
      const own = tags.get(k.keyPairId) ?? [];
      if (!matchesFilters(k, own, filters, keyPairFilters)) continue;
      out.push({
        KeyPairId: k.keyPairId, KeyName: k.keyName, KeyFingerprint: k.fingerprint, KeyType: k.keyType, CreateTime: new Date(k.createTime),
        Tags: own.length ? own : [], PublicKey: req.IncludePublicKey ? `${k.publicKey} ${k.keyName}\n` : undefined,
      });
    }
    return { KeyPairs: out };
  }

  /** Deleting a key pair that does not exist succeeds, as in EC2. Running instances keep their key. */
  async delete(caller: Caller, req: DeleteKeyPairRequest): Promise<{ Return: boolean; KeyPairId?: string }> {
    if (req.KeyName === undefined && req.KeyPairId === undefined) throw Errors.missingParameter('KeyName or KeyPairId');
    const k = req.KeyPairId !== undefined
      ? await this.deps.store.keyPairs.byId(caller.region, caller.account, req.KeyPairId)
      : await this.deps.store.keyPairs.byName(caller.region, caller.account, req.KeyName!);
    if (k) await this.deps.store.keyPairs.delete(caller.region, k.keyPairId);
    return { Return: true, KeyPairId: k?.keyPairId };
  }
}
