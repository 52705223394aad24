// amiforge's own authenticated API: requests signed with SigV4 for the service `amiforge`, so
// they run as the signing account (its images, its KMS keys) like any AWS call. JSON in and out,
// errors in the rest-json envelope. Used by `amiforge image scan` and `amiforge image packages`:
//   POST /image-scan      {"imageId": "ami-..."}  -> HygieneReport
//   POST /image-packages  {"imageId": "ami-..."}  -> {"packages": [{packageName, packageVersion}]}
import type { RequestContext } from '../domain/context.ts';
import { Errors } from '../domain/errors.ts';
import type { HygieneScanner } from '../domain/imagebuilder/hygiene/hygiene-scanner.ts';

export const AMIFORGE_SERVICE = 'amiforge';

export interface AmiforgeApiDeps {
  hygiene: HygieneScanner;
  /** An IAM-style user's policies checked as for ec2:DescribeImages on the image (reading it). */
  authorizeImageRead?: (imageId: string) => Promise<void>;
}

export async function dispatchAmiforge(method: string, path: string, body: Buffer, ctx: RequestContext, deps: AmiforgeApiDeps): Promise<{ action: string; body: unknown }> {
  const action = method === 'POST' && path === '/image-scan' ? 'ScanImage' : method === 'POST' && path === '/image-packages' ? 'ListImagePackages' : undefined;
  if (!action) throw Errors.invalidAction(`${method} ${path}`);
  let input: { imageId?: unknown };
  try {
    input = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw Errors.invalidParameterValue('The request body is not JSON.');
  }
  if (typeof input.imageId !== 'string' || !input.imageId) throw Errors.missingParameter('imageId');
  await deps.authorizeImageRead?.(input.imageId);
  if (action === 'ScanImage') return { action, body: await deps.hygiene.scan(ctx.caller, input.imageId) };
  return { action, body: { packages: await deps.hygiene.listPackages(ctx.caller, input.imageId) } };
}
