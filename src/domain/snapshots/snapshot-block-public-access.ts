// Block public access for snapshots, per account and region. `block-new-sharing` refuses making a
// snapshot public; `block-all-sharing` also treats the account's already public snapshots as
// private for everyone else, without touching their createVolumePermission (AWS keeps the `all`
// group in the attribute, so unblocking makes them public again).
import type { CreateVolumePermission } from '../../protocol/ec2/types.generated.ts';
import type { AccountSettingsRepository, BlockPublicAccessStates } from '../../ports/account-settings.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isPublicSnapshot } from './snapshot-access.ts';

type State = BlockPublicAccessStates['snapshot'];
/** Owners' states looked up during one listing, by `owner/region`. */
export type OwnerStates = Map<string, State>;

/** True when the caller reaches the snapshot only because it is public (not its owner, not named). */
export const reachedOnlyAsPublic = (caller: Caller, s: SnapshotRecord): boolean =>
  s.ownerId !== caller.account && isPublicSnapshot(s) && !s.createVolumePermissions.some((p) => p.UserId === caller.account);

export class SnapshotBlockPublicAccess {
  private readonly settings: AccountSettingsRepository;
  constructor(settings: AccountSettingsRepository) {
    this.settings = settings;
  }

  async get(caller: Caller): Promise<{ State: State; ManagedBy: 'account' }> {
    return { State: await this.settings.blockPublicAccess(caller.account, caller.region, 'snapshot'), ManagedBy: 'account' };
  }

  async enable(caller: Caller, state: State): Promise<{ State: State }> {
    // The model's enum admits `unblocked`; the API reference says it is not a valid value here.
    if (state === 'unblocked') {
      throw Errors.invalidParameterValue('Value (unblocked) for parameter State is invalid. Valid values: block-all-sharing, block-new-sharing');
    }
    await this.settings.setBlockPublicAccess(caller.account, caller.region, 'snapshot', state);
    return { State: state };
  }

  async disable(caller: Caller): Promise<{ State: State }> {
    await this.settings.setBlockPublicAccess(caller.account, caller.region, 'snapshot', 'unblocked');
    return { State: 'unblocked' };
  }

  /** Refuses a new public share (adding group `all` to a snapshot not public yet) while blocked. */
  async checkShare(caller: Caller, s: SnapshotRecord, add: CreateVolumePermission[]): Promise<void> {
    if (!add.some((p) => p.Group === 'all') || isPublicSnapshot(s)) return;
    if (await this.settings.blockPublicAccess(caller.account, caller.region, 'snapshot') === 'unblocked') return;
    throw Errors.snapshotPublicSharingBlocked();
  }

  /**
   * Whether the caller is kept from a snapshot it reaches only as a public one, because its owner
   * blocks all sharing in that region. `seen` caches owners' states across one listing.
   */
  async hidden(caller: Caller, s: SnapshotRecord, seen: OwnerStates = new Map()): Promise<boolean> {
    if (!reachedOnlyAsPublic(caller, s)) return false;
    const key = `${s.ownerId}/${s.region}`;
    let state = seen.get(key);
    if (state === undefined) {
      state = await this.settings.blockPublicAccess(s.ownerId, s.region, 'snapshot');
      seen.set(key, state);
    }
    return state === 'block-all-sharing';
  }
}
