// KMS aliases: friendly names for keys, per account and region. `alias/aws/` names belong to
// AWS managed keys: nobody creates, repoints or deletes them; ListAliases shows them even
// before their key exists, as AWS does.
import type {
  AliasListEntry, CreateAliasRequest, DeleteAliasRequest, ListAliasesRequest, ListAliasesResponse, UpdateAliasRequest,
} from '../../protocol/kms/types.generated.ts';
import type { AliasRecord } from '../../ports/key-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { aliasArn } from './identifiers.ts';
import { KeyAccess, MANAGED_KEYS, type KmsDeps } from './key-access.ts';
import { pageLimit, readMarker, takePage } from './paging.ts';

type Empty = Record<string, never>;

function checkAliasName(name: string): void {
  if (!name.startsWith('alias/') || name.length === 'alias/'.length) {
    throw Errors.kmsValidation('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (name.startsWith('alias/aws/')) {
    throw Errors.kmsInvalidAliasName(`${name}: alias names beginning with alias/aws/ are reserved for AWS managed keys.`);
  }
}

export class AliasService {
  private readonly deps: KmsDeps;
  private readonly access: KeyAccess;
  constructor(deps: KmsDeps, access: KeyAccess) {
    this.deps = deps;
    this.access = access;
  }

  async create(caller: Caller, req: CreateAliasRequest): Promise<Empty> {
    checkAliasName(req.AliasName);
    const key = await this.access.use(caller, req.TargetKeyId, 'CreateAlias', { states: 'notPending' });
    const now = this.deps.clock.now().toISOString();
    const alias: AliasRecord = {
      account: caller.account, region: caller.region, aliasName: req.AliasName, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now,
    };
    if (!await this.deps.keys.insertAlias(alias)) throw Errors.kmsAliasExists(aliasArn(caller.region, caller.account, req.AliasName));
    return {};
  }

  /** The caller's alias of that name, or NotFoundException. */
  private async existing(caller: Caller, name: string): Promise<AliasRecord> {
    const alias = await this.deps.keys.getAlias(caller.account, caller.region, name);
    // An alias of a key whose deletion date has passed goes with the key.
    if (!alias || !await this.access.load(caller.region, alias.targetKeyId)) {
      throw Errors.kmsAliasNotFound(aliasArn(caller.region, caller.account, name));
    }
    return alias;
  }

  async update(caller: Caller, req: UpdateAliasRequest): Promise<Empty> {
    checkAliasName(req.AliasName);
    const alias = await this.existing(caller, req.AliasName);
    // Repointing needs the permission on both keys, as in AWS.
    const current = await this.access.find(caller, alias.targetKeyId);
    await this.access.authorize(caller, current, 'UpdateAlias');
    const target = await this.access.use(caller, req.TargetKeyId, 'UpdateAlias', { states: 'notPending' });
    await this.deps.keys.updateAlias({ ...alias, targetKeyId: target.keyId, lastUpdatedDate: this.deps.clock.now().toISOString() });
    return {};
  }

  async delete(caller: Caller, req: DeleteAliasRequest): Promise<Empty> {
    checkAliasName(req.AliasName);
    const alias = await this.existing(caller, req.AliasName);
    const key = await this.access.find(caller, alias.targetKeyId);
    await this.access.authorize(caller, key, 'DeleteAlias');
    await this.deps.keys.deleteAlias(caller.account, caller.region, req.AliasName);
    return {};
  }

  async list(caller: Caller, req: ListAliasesRequest): Promise<ListAliasesResponse> {
    const limit = pageLimit(req.Limit, { max: 100, default: 50 });
    const after = readMarker(req.Marker);
    let targetKeyId: string | undefined;
    if (req.KeyId !== undefined) {
      const key = await this.access.find(caller, req.KeyId);
      if (key.account !== caller.account) throw Errors.kmsKeyNotFound(key.arn);
      targetKeyId = key.keyId;
    }
    // AWS managed aliases whose key does not exist yet are listed without a target.
    const pending: AliasListEntry[] = [];
    if (!targetKeyId) {
      for (const name of Object.keys(MANAGED_KEYS).sort()) {
        if ((after === undefined || name > after) && !await this.deps.keys.getAlias(caller.account, caller.region, name)) {
          pending.push({ AliasName: name, AliasArn: aliasArn(caller.region, caller.account, name) });
        }
      }
    }
    const scan = this.deps.keys.scanAliases({ account: caller.account, region: caller.region, targetKeyId, afterAliasName: after });
    const access = this.access;
    const entries = (async function* () {
      for await (const a of scan) {
        while (pending.length && pending[0].AliasName! < a.aliasName) yield pending.shift()!;
        if (!await access.load(a.region, a.targetKeyId)) continue;
        yield {
          AliasName: a.aliasName, AliasArn: aliasArn(a.region, a.account, a.aliasName), TargetKeyId: a.targetKeyId,
          CreationDate: new Date(a.creationDate), LastUpdatedDate: new Date(a.lastUpdatedDate),
        } satisfies AliasListEntry;
      }
      yield* pending;
    })();
    const page = await takePage(entries, limit, (e) => e.AliasName!);
    return { Aliases: page.items, Truncated: page.truncated, NextMarker: page.nextMarker };
  }
}
