// Governance of images and snapshots: block public access, disabling, deprecation, deregistration
// protection and leaving a shared image. Rules live in the domain; these only map.
import type { ImageBlockPublicAccess } from '../../domain/images/block-public-access.ts';
import type { ImageControls } from '../../domain/images/image-controls.ts';
import type { SnapshotBlockPublicAccess } from '../../domain/snapshots/snapshot-block-public-access.ts';
import type { Ec2HandlerTable } from './handler.ts';

/** The services these handlers call (Ec2Services.governance). */
export interface GovernanceServices {
  images: ImageControls;
  imagePublicAccess: ImageBlockPublicAccess;
  snapshotPublicAccess: SnapshotBlockPublicAccess;
}

export const governanceHandlers: Ec2HandlerTable = {
  CancelImageLaunchPermission: async (input, ctx, s) => {
    await s.governance.images.cancelLaunchPermission(ctx.caller, input.ImageId);
    return { Return: true };
  },
  DisableImage: async (input, ctx, s) => {
    await s.governance.images.disable(ctx.caller, input.ImageId);
    return { Return: true };
  },
  EnableImage: async (input, ctx, s) => {
    await s.governance.images.enable(ctx.caller, input.ImageId);
    return { Return: true };
  },
  EnableImageDeprecation: async (input, ctx, s) => {
    await s.governance.images.enableDeprecation(ctx.caller, input.ImageId, input.DeprecateAt);
    return { Return: true };
  },
  DisableImageDeprecation: async (input, ctx, s) => {
    await s.governance.images.disableDeprecation(ctx.caller, input.ImageId);
    return { Return: true };
  },
  EnableImageDeregistrationProtection: async (input, ctx, s) =>
    ({ Return: await s.governance.images.enableDeregistrationProtection(ctx.caller, input.ImageId, input.WithCooldown ?? false) }),
  DisableImageDeregistrationProtection: async (input, ctx, s) =>
    ({ Return: await s.governance.images.disableDeregistrationProtection(ctx.caller, input.ImageId) }),
  EnableImageBlockPublicAccess: (input, ctx, s) => s.governance.imagePublicAccess.enable(ctx.caller, input.ImageBlockPublicAccessState),
  DisableImageBlockPublicAccess: (_input, ctx, s) => s.governance.imagePublicAccess.disable(ctx.caller),
  GetImageBlockPublicAccessState: (_input, ctx, s) => s.governance.imagePublicAccess.get(ctx.caller),
  EnableSnapshotBlockPublicAccess: (input, ctx, s) => s.governance.snapshotPublicAccess.enable(ctx.caller, input.State),
  DisableSnapshotBlockPublicAccess: (_input, ctx, s) => s.governance.snapshotPublicAccess.disable(ctx.caller),
  GetSnapshotBlockPublicAccessState: (_input, ctx, s) => s.governance.snapshotPublicAccess.get(ctx.caller),
};
