// What a client sees when a request fails for a reason that is not its fault (a bug, or the
// metadata database or block store being down): each service's own documented internal error, with no detail of the cause
// (that goes to the server log with the request id), never a stack trace.
import { Errors, type ServiceError } from '../domain/errors.ts';
import { BlockStoreUnavailableError } from '../ports/block-store.ts';
import { StoreUnavailableError } from '../ports/metadata-store.ts';
import { AMIFORGE_SERVICE } from './amiforge-api.ts';

export function internalErrorFor(service: string, err: unknown): ServiceError {
  // EC2 documents ServiceUnavailable (503) for temporary failures; the SDKs and CLIs retry it with
  // backoff. The JSON services document only their internal error, a 500 the clients also retry.
  const unavailable = err instanceof StoreUnavailableError || err instanceof BlockStoreUnavailableError;
  if (unavailable && service === 'ec2') return Errors.serviceUnavailable();
  if (service === 'ebs' || service === AMIFORGE_SERVICE) return Errors.ebsInternal();
  if (service === 'kms') return Errors.kmsInternal();
  if (service === 'rbin') return Errors.rbinInternal();
  if (service === 'ssm') return Errors.ssmInternal();
  if (service === 'imagebuilder') return Errors.ibInternal();
  return Errors.internal();
}
