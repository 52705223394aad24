// The owner's controls over an image's life (disabling, deprecation, deregistration protection)
// and a sharee's one control: removing its own account from an image shared with it.
import type { Clock } from '../../ports/clock.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { disabledProtection } from './deregistration-protection.ts';
import type { ImageService } from './image-service.ts';
import { isPublicImage } from './visibility.ts';

export interface ImageControlsDeps { store: MetadataStore; clock: Clock; images: ImageService }

const MINUTE_MS = 60_000;

const yearsAfter = (date: Date, years: number): Date => {
  const d = new Date(date);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
};

export class ImageControls {
  private readonly deps: ImageControlsDeps;
  constructor(deps: ImageControlsDeps) {
    this.deps = deps;
  }

  /**
   * CancelImageLaunchPermission: the caller leaves the image's launch permissions. AWS allows it
   * only for an image shared with the account itself, never for one reached as public or through
   * an organization or OU, and never for the caller's own image.
   */
  async cancelLaunchPermission(caller: Caller, imageId: string): Promise<void> {
    const record = await this.deps.images.findVisible(caller, imageId);
    if (record.image.ownerId === caller.account) throw Errors.cancelOwnLaunchPermission(imageId);
    if (!record.launchPermissions.some((p) => p.UserId === caller.account)) throw Errors.notSharedDirectly(imageId);
    record.launchPermissions = record.launchPermissions.filter((p) => p.UserId !== caller.account);
    await this.deps.store.images.update(record);
  }

  /**
   * DisableImage: only an available image; every launch permission is removed (public, accounts,
   * organizations, OUs), and EnableImage does not bring them back, as AWS documents.
   */
  async disable(caller: Caller, imageId: string): Promise<void> {
    const record = await this.deps.images.findOwned(caller, imageId);
    if (record.image.state !== 'available') throw Errors.imageIncorrectState(imageId, record.image.state, 'available');
    record.image.state = 'disabled';
    record.launchPermissions = [];
    await this.deps.store.images.update(record);
  }

  async enable(caller: Caller, imageId: string): Promise<void> {
    const record = await this.deps.images.findOwned(caller, imageId);
    if (record.image.state !== 'disabled') throw Errors.imageIncorrectState(imageId, record.image.state, 'disabled');
    record.image.state = 'available';
    await this.deps.store.images.update(record);
  }

  /**
   * EnableImageDeprecation: seconds are rounded to the nearest minute; the time may not be in the
   * past, nor more than 10 years ahead (2 years after its creation for a public image).
   */
  async enableDeprecation(caller: Caller, imageId: string, deprecateAt: Date): Promise<void> {
    const record = await this.deps.images.findOwned(caller, imageId);
    const at = new Date(Math.round(deprecateAt.getTime() / MINUTE_MS) * MINUTE_MS);
    const now = this.deps.clock.now();
    // "Now" is accepted: compared with the current minute, since rounding may move it back.
    if (at.getTime() < Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS) {
      throw Errors.invalidDeprecateAt(`The deprecation time ${at.toISOString()} is in the past; specify a time that is now or later.`);
    }
    const limit = isPublicImage(record) ? yearsAfter(new Date(record.image.creationDate), 2) : yearsAfter(now, 10);
    if (at > limit) {
      throw Errors.invalidDeprecateAt(isPublicImage(record)
        ? `The deprecation time of a public image can be at most 2 years after its creation date (${limit.toISOString()}).`
        : `The deprecation time can be at most 10 years from now (${limit.toISOString()}).`);
    }
    record.image.deprecationTime = at.toISOString();
    await this.deps.store.images.update(record);
  }

  async disableDeprecation(caller: Caller, imageId: string): Promise<void> {
    const record = await this.deps.images.findOwned(caller, imageId);
    delete record.image.deprecationTime;
    await this.deps.store.images.update(record);
  }

  /** Returns the new state, as AWS's `return` does (e.g. `enabled-with-cooldown`). */
  async enableDeregistrationProtection(caller: Caller, imageId: string, withCooldown: boolean): Promise<string> {
    const record = await this.deps.images.findOwned(caller, imageId);
    return this.setProtection(record, withCooldown ? 'enabled-with-cooldown' : 'enabled-without-cooldown');
  }

  async disableDeregistrationProtection(caller: Caller, imageId: string): Promise<string> {
    const record = await this.deps.images.findOwned(caller, imageId);
    return this.setProtection(record, disabledProtection(record.image.deregistrationProtection, this.deps.clock.now()));
  }

  private async setProtection(record: ImageRecord, value: string): Promise<string> {
    record.image.deregistrationProtection = value;
    await this.deps.store.images.update(record);
    return value;
  }
}
