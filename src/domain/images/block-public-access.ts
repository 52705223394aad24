// Block public access for AMIs, per account and region: while it is on, an image cannot be made
// public (launchPermission group `all`); images that are public already stay public, as in AWS.
import type { LaunchPermission } from '../../protocol/ec2/types.generated.ts';
import type { AccountSettingsRepository, BlockPublicAccessStates } from '../../ports/account-settings.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isPublicImage } from './visibility.ts';

type State = BlockPublicAccessStates['image'];

export class ImageBlockPublicAccess {
  private readonly settings: AccountSettingsRepository;
  constructor(settings: AccountSettingsRepository) {
    this.settings = settings;
  }

  async get(caller: Caller): Promise<{ ImageBlockPublicAccessState: State; ManagedBy: 'account' }> {
    return { ImageBlockPublicAccessState: await this.settings.blockPublicAccess(caller.account, caller.region, 'image'), ManagedBy: 'account' };
  }

  // AWS applies the setting within minutes and answers the old state meanwhile; amiforge applies
  // it at once, so the next Get already answers the new state.
  async enable(caller: Caller, state: 'block-new-sharing'): Promise<{ ImageBlockPublicAccessState: 'block-new-sharing' }> {
    await this.settings.setBlockPublicAccess(caller.account, caller.region, 'image', state);
    return { ImageBlockPublicAccessState: state };
  }

  async disable(caller: Caller): Promise<{ ImageBlockPublicAccessState: 'unblocked' }> {
    await this.settings.setBlockPublicAccess(caller.account, caller.region, 'image', 'unblocked');
    return { ImageBlockPublicAccessState: 'unblocked' };
  }

  /** Refuses a new public share (group `all` added to an image not public yet) while blocked. */
  async checkShare(caller: Caller, record: ImageRecord, add: LaunchPermission[]): Promise<void> {
    if (!add.some((p) => p.Group === 'all') || isPublicImage(record)) return;
    if (await this.settings.blockPublicAccess(caller.account, caller.region, 'image') === 'unblocked') return;
    throw Errors.imagePublicSharingBlocked();
  }
}
