// Builds the Systems Manager service from the app's parts: parameters in the metadata store,
// SecureString values through the built-in KMS, public parameters from the image catalogue, and
// aws:ec2:image values checked against DescribeImages' visibility.
import type { CatalogImage } from '../catalog/catalog.ts';
import { isServiceError } from '../domain/errors.ts';
import type { ImageService } from '../domain/images/image-service.ts';
import type { KmsService } from '../domain/kms/kms-service.ts';
import { CataloguePublicParameters } from '../domain/ssm/public-parameters.ts';
import { SecureValues } from '../domain/ssm/secure-values.ts';
import { SsmService } from '../domain/ssm/ssm-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export function createSsm(o: { store: MetadataStore; kms: KmsService; images: ImageService; catalog: () => readonly CatalogImage[]; clock: Clock }): SsmService {
  return new SsmService({
    parameters: o.store.ssmParameters,
    secure: new SecureValues(o.kms),
    publicParameters: new CataloguePublicParameters(o.catalog, async (region, id) => !!await o.store.images.get(region, id)),
    clock: o.clock,
    imageVisible: async (caller, imageId) => {
      try {
        await o.images.findVisible(caller, imageId);
        return true;
      } catch (err) {
        if (isServiceError(err)) return false;
        throw err;
      }
    },
  });
}
