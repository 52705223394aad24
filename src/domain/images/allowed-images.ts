// Allowed AMIs, per account and region: the settings operations, and the policy that
// DescribeImages and RunInstances consult. `enabled` hides and refuses images that match no
// criterion; `audit-mode` only reports (ImageAllowed); `disabled` does neither. An account's own
// images are always allowed.
import type {
  DisableAllowedImagesSettingsResult, EnableAllowedImagesSettingsRequest, EnableAllowedImagesSettingsResult,
  GetAllowedImagesSettingsResult, ReplaceImageCriteriaInAllowedImagesSettingsRequest,
} from '../../protocol/ec2/types.generated.ts';
import type { AllowedImagesSettings, AllowedImagesState } from '../../ports/account-settings.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isImageAllowed, validateCriteria } from './allowed-images-criteria.ts';

export interface AllowedImagesDeps {
  store: MetadataStore;
  clock: Clock;
}

/** The caller's settings applied to images, read once per request. */
export interface AllowedImagesPolicy {
  readonly state: AllowedImagesState;
  /** Whether the image meets the criteria (always true while disabled: every image is allowed). */
  allows(record: ImageRecord): boolean;
  /** Whether the image is discoverable and usable now: false only for a not-allowed image while enabled. */
  admits(record: ImageRecord): boolean;
  /** DescribeImages' ImageAllowed member: absent while disabled. */
  reported(record: ImageRecord): boolean | undefined;
}

export class AllowedImages {
  private readonly deps: AllowedImagesDeps;
  constructor(deps: AllowedImagesDeps) {
    this.deps = deps;
  }

  private settings(caller: Caller): Promise<AllowedImagesSettings> {
    return this.deps.store.accountSettings.allowedImages(caller.account, caller.region);
  }

  private async setState(caller: Caller, state: AllowedImagesState): Promise<void> {
    const current = await this.settings(caller);
    await this.deps.store.accountSettings.setAllowedImages(caller.account, caller.region, { ...current, state });
  }

  async enable(caller: Caller, req: EnableAllowedImagesSettingsRequest): Promise<EnableAllowedImagesSettingsResult> {
    await this.setState(caller, req.AllowedImagesSettingsState);
    return { AllowedImagesSettingsState: req.AllowedImagesSettingsState };
  }

  /** The criteria are kept: enabling again applies them again. */
  async disable(caller: Caller): Promise<DisableAllowedImagesSettingsResult> {
    await this.setState(caller, 'disabled');
    return { AllowedImagesSettingsState: 'disabled' };
  }

  async get(caller: Caller): Promise<GetAllowedImagesSettingsResult> {
    const s = await this.settings(caller);
    return { State: s.state, ImageCriteria: s.criteria, ManagedBy: 'account' };
  }

  /** Replaces the criteria whole (none given: no criteria), in any state. */
  async replaceCriteria(caller: Caller, req: ReplaceImageCriteriaInAllowedImagesSettingsRequest): Promise<void> {
    const criteria = validateCriteria(req.ImageCriteria);
    const current = await this.settings(caller);
    await this.deps.store.accountSettings.setAllowedImages(caller.account, caller.region, { ...current, criteria });
  }

  async policyFor(caller: Caller): Promise<AllowedImagesPolicy> {
    const { state, criteria } = await this.settings(caller);
    const now = this.deps.clock.now();
    const allows = (r: ImageRecord) => state === 'disabled' || isImageAllowed(criteria, r.image, caller.account, now);
    return {
      state,
      allows,
      admits: (r) => state !== 'enabled' || allows(r),
      reported: (r) => (state === 'disabled' ? undefined : allows(r)),
    };
  }

  /** RunInstances (and other uses of an image): refused only while enabled and not allowed. */
  async checkUse(caller: Caller, record: ImageRecord): Promise<void> {
    const policy = await this.policyFor(caller);
    if (!policy.admits(record)) throw Errors.amiNotAllowed(record.image.imageId, caller.region);
  }
}
