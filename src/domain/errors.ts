// The one error catalog. Every error a client can see is made here, by a factory that fixes its
// code, HTTP status and message; codecs only render it. EC2's model declares no errors, so the
// codes and messages below follow AWS's EC2 API error reference.

export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members some protocols carry in the error body (e.g. EBS's `Reason`). */
  readonly fields: Readonly<Record<string, string>>;
  constructor(code: string, status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

const e = (code: string, status: number) => (message: string) => new ServiceError(code, status, message);
const client = (code: string) => e(code, 400);

export const Errors = {
  // EC2-wide
  dryRun: () => new ServiceError('DryRunOperation', 412, 'Request would have succeeded, but DryRun flag is set.'),
  missingParameter: (name: string) =>
    client('MissingParameter')(`The request must contain the parameter ${name}`),
  invalidParameterValue: client('InvalidParameterValue'),
  invalidParameterCombination: client('InvalidParameterCombination'),
  invalidParameter: client('InvalidParameter'),
  unknownParameter: (name: string) => client('UnknownParameter')(`The parameter ${name} is not recognized`),
  invalidAction: (action: string) =>
    client('InvalidAction')(`The action ${action} is not valid for this web service.`),
  unsupportedOperation: client('UnsupportedOperation'),
  invalidFilter: (name: string) => client('InvalidParameterValue')(`The filter '${name}' is invalid`),
  filterLimitExceeded: (max: number) =>
    client('FilterLimitExceeded')(`The maximum number of filter values specified on a single call is ${max}`),
  invalidNextToken: (token: string) => client('InvalidPaginationToken')(`Invalid pagination token: ${token}`),
  operationNotPermitted: client('OperationNotPermitted'),
  unauthorizedOperation: () =>
    e('UnauthorizedOperation', 403)('You are not authorized to perform this operation.'),
  internal: () => e('InternalError', 500)('An internal error has occurred. Retry the request; if it persists, check the server log for this request id.'),
  malformedQuery: (detail: string) => client('InvalidQueryParameter')(detail),

  // Identity
  authFailure: (message = 'AWS was not able to validate the provided access credentials') =>
    e('AuthFailure', 401)(message),
  signatureDoesNotMatch: () =>
    e('SignatureDoesNotMatch', 403)(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'),
  missingAuthenticationToken: () =>
    e('MissingAuthenticationToken', 401)('Request is missing Authentication Token'),
  incompleteSignature: (detail: string) => e('IncompleteSignature', 400)(detail),
  requestExpired: () => e('RequestExpired', 400)('Request has expired.'),
  invalidClientTokenId: () =>
    e('AuthFailure', 401)('AWS was not able to validate the provided access credentials'),
  unknownRegion: (region: string) =>
    e('AuthFailure', 401)(`Credential should be scoped to a valid region, not '${region}'.`),

  // Images
  amiMalformed: (id: string) => client('InvalidAMIID.Malformed')(`Invalid id: "${id}" (expecting "ami-...")`),
  amiNotFound: (id: string) => client('InvalidAMIID.NotFound')(`The image id '[${id}]' does not exist`),
  amiUnavailable: (id: string) => client('InvalidAMIID.Unavailable')(`The image id '[${id}]' is no longer available`),
  amiNameDuplicate: (name: string) =>
    client('InvalidAMIName.Duplicate')(`AMI name ${name} is already in use by AMI in this region`),
  amiNameMalformed: (detail: string) => client('InvalidAMIName.Malformed')(detail),
  amiAttributeItem: (value: string, itemType: string) =>
    client('InvalidAMIAttributeItemValue')(`Invalid attribute item value "${value}" for ${itemType} item type.`),
  invalidUserIdMalformed: (id: string) =>
    client('InvalidUserID.Malformed')(`Invalid user id: "${id}"`),
  invalidBlockDeviceMapping: client('InvalidBlockDeviceMapping'),
  authFailureOnImage: (id: string) =>
    e('AuthFailure', 400)(`Not authorized for image:${id}`),

  // Snapshots (EC2 API)
  snapshotMalformed: (id: string) => client('InvalidSnapshotID.Malformed')(`Invalid id: "${id}" (expecting "snap-...")`),
  snapshotNotFound: (id: string) => client('InvalidSnapshot.NotFound')(`The snapshot '${id}' does not exist.`),
  snapshotInUse: (id: string, imageId: string) =>
    client('InvalidSnapshot.InUse')(`The snapshot ${id} is currently in use by ${imageId}`),
  snapshotIncorrectState: (id: string, state: string) =>
    client('IncorrectState')(`Snapshot '${id}' is in state '${state}'; it must be 'completed'.`),
  snapshotAuthFailure: (id: string) => e('AuthFailure', 400)(`Not authorized for snapshot:${id}`),
  snapshotAttributeItem: (value: string, itemType: string) =>
    client('InvalidParameterValue')(`Invalid attribute item value "${value}" for ${itemType} item type.`),

  // Volumes
  volumeMalformed: (id: string) => client('InvalidVolumeID.Malformed')(`Invalid id: "${id}" (expecting "vol-...")`),
  volumeNotFound: (id: string) => client('InvalidVolume.NotFound')(`The volume '${id}' does not exist.`),
  volumeInUse: client('VolumeInUse'),
  volumeZoneMismatch: (volumeId: string, instanceId: string) =>
    client('InvalidVolume.ZoneMismatch')(`The volume '${volumeId}' is not in the same availability zone as instance '${instanceId}'`),
  incorrectState: client('IncorrectState'),

  // EBS direct APIs (rest-json): codes and reasons from the EBS service model.
  ebsValidation: (reason: string, message: string) =>
    new ServiceError('ValidationException', 400, message, { Reason: reason }),
  ebsNotFound: (message: string, reason = 'SNAPSHOT_NOT_FOUND') =>
    new ServiceError('ResourceNotFoundException', 404, message, { Reason: reason }),
  ebsAccessDenied: (message: string, reason = 'UNAUTHORIZED_ACCOUNT') =>
    new ServiceError('AccessDeniedException', 403, message, { Reason: reason }),
  ebsConflict: (message: string) => new ServiceError('ConflictException', 409, message),
  ebsInternal: () => new ServiceError('InternalServerException', 500, 'An internal error occurred. Retry the request.'),
  /** Stored data failed its checksum or is gone: an error, never wrong bytes. fsck tells more. */
  blockUnreadable: (snapshotId: string, index: number, detail: string) =>
    new ServiceError('InternalServerException', 500,
      `Block ${index} of ${snapshotId} cannot be read: ${detail}. Run 'amiforge fsck' on the data directory.`),

  // Tags and resources
  invalidId: (id: string) => client('InvalidID')(`The ID '${id}' is not valid`),
  tagLimitExceeded: () => client('TagLimitExceeded')('The maximum number of Tags for a resource has been reached.'),
  invalidTagKey: (detail: string) => client('InvalidParameterValue')(detail),
} as const;

/** True when the value is a client-visible error rather than a bug. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}
