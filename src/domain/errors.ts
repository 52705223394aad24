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
  /** An IAM user's identity policies do not allow the request; `detail` names user, action and resource. */
  unauthorizedByPolicy: (detail: string) =>
    e('UnauthorizedOperation', 403)(`You are not authorized to perform this operation. ${detail}`),
  internal: () => e('InternalError', 500)('An internal error has occurred. Retry the request; if it persists, check the server log for this request id.'),
  /** A backing store (the metadata database, the block store) is unreachable for a moment: nothing was decided, and SDKs retry a 503. */
  serviceUnavailable: () => e('ServiceUnavailable', 503)('The request has failed due to a temporary failure of the server.'),
  malformedQuery: (detail: string) => client('InvalidQueryParameter')(detail),
  /**
   * The node running the instance's guest could not be reached, or the request reached a node
   * that no longer runs it: EC2's retryable Unavailable (503), which the SDKs retry on their own.
   */
  instanceNodeUnavailable: (detail: string) => e('Unavailable', 503)(`The instance's host is not reachable right now; retry the request. ${detail}`),

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

  // Operator endpoints (/_amiforge/*, /metrics) in strict mode: docs/operators.md.
  operatorCredentialsMissing: () => e('OperatorCredentialsRequired', 401)(
    'This endpoint is for the server\'s operators. Send "Authorization: Bearer TOKEN" with the token in the file the server was started with (--operator-token-file), '
    + 'or sign the request (SigV4) with an access key the accounts file marks "operator": true.'),
  operatorTokenInvalid: (configured: boolean) => e('InvalidOperatorCredentials', 401)(configured
    ? 'The bearer token is not the server\'s operator token (the contents of its --operator-token-file).'
    : 'This server has no operator token (start it with --operator-token-file FILE); sign the request with an operator\'s access key instead.'),
  operatorSignatureInvalid: (why: string) => e('InvalidOperatorCredentials', 401)(
    `The request's signature was not accepted (${why}). Operator requests are signed with an access key the accounts file marks "operator": true.`),
  notAnOperator: (who: string) => e('OperatorAccessDenied', 403)(
    `${who} is not an operator of this server. Use an access key marked "operator": true in the accounts file (on the key or on its user), or the operator token.`),

  // Web console sessions (src/api/console): rendered as JSON {error: {code, message}}
  signInRequired: () => e('SignInRequired', 401)('Sign in to the console: the session is missing, expired or signed out.'),
  invalidCsrfToken: () => e('InvalidCsrfToken', 403)('The request lacks the session\'s CSRF token (header x-csrf-token).'),
  consoleInvalidRegion: (region: string) =>
    client('InvalidRegion')(`The region in x-amiforge-region is not a region amiforge serves: '${region}'.`),
  consoleNotFound: (path: string) => e('NotFound', 404)(`No console route answers ${path}.`),
  consoleBadRequest: (why: string) => client('InvalidRequest')(why),

  // Images
  amiMalformed: (id: string) => client('InvalidAMIID.Malformed')(`Invalid id: "${id}" (expecting "ami-...")`),
  /** A kernel (aki-) or ramdisk (ari-) parameter that is no image id at all. */
  amiMalformedAs: (id: string, prefix: string) => client('InvalidAMIID.Malformed')(`Invalid id: "${id}" (expecting "${prefix}-...")`),
  /** RunInstances of a kernel or ramdisk image: only machine images run. */
  notMachineImage: (id: string, type: string) =>
    client('InvalidParameterValue')(`The image id '[${id}]' is a ${type} image: only machine images (ami-...) can be launched.`),
  /** CopyImage of a paravirtual image whose kernel or ramdisk has no image in the destination region. */
  bootImageNotInRegion: (id: string, role: string, region: string) =>
    client('InvalidParameterValue')(`The ${role} image '${id}' of the source image has no counterpart in ${region}: a paravirtual image can be copied only to a Region that has its ${role} image.`),
  amiNotFound: (id: string) => client('InvalidAMIID.NotFound')(`The image id '[${id}]' does not exist`),
  amiUnavailable: (id: string) => client('InvalidAMIID.Unavailable')(`The image id '[${id}]' is no longer available`),
  // Allowed AMIs: EC2 documents only that a not-allowed image is not discoverable or usable, so it
  // is the not-found of an image the caller cannot see, with a message that names the cause.
  amiNotAllowed: (id: string, region: string) =>
    client('InvalidAMIID.NotFound')(`The image id '[${id}]' does not exist or is not allowed by this account's Allowed AMIs settings in ${region}`),
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
  attachmentPointInUse: (device: string) => client('InvalidParameterValue')(`Attachment point ${device} is already in use`),
  attachmentNotFound: (volumeId: string, instanceId: string) =>
    client('InvalidAttachment.NotFound')(`The volume ${volumeId} is not attached to instance ${instanceId}.`),

  // Instances
  instanceMalformed: (id: string) => client('InvalidInstanceID.Malformed')(`Invalid id: "${id}" (expecting "i-...")`),
  instanceNotFound: (id: string) => client('InvalidInstanceID.NotFound')(`The instance ID '${id}' does not exist`),
  incorrectInstanceState: client('IncorrectInstanceState'),
  instanceLimitExceeded: (requested: number, limit: number) =>
    client('InstanceLimitExceeded')(`You have requested more instances (${requested}) than your current instance limit of ${limit} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`),
  idempotentParameterMismatch: () =>
    client('IdempotentParameterMismatch')('Arguments on this idempotent request are inconsistent with arguments used in previous request(s).'),
  /** EC2's code for a valid value this configuration cannot serve (an instance type amiforge does not model). */
  unsupportedConfiguration: client('Unsupported'),
  instanceAttributeValue: (value: string, attribute: string) =>
    client('InvalidInstanceAttributeValue')(`Value (${value}) for parameter ${attribute} is invalid.`),
  insufficientAddresses: (subnetId: string) =>
    client('InsufficientFreeAddressesInSubnet')(`There are not enough free addresses in subnet '${subnetId}' to satisfy the requested number of instances.`),
  // CopyImage, with AWS's own messages for a shared image the caller may not copy.
  copyImageStorageDenied: () => client('InvalidRequest')('You do not have permission to access the storage of this ami.'),
  copyImageMarketplace: () => client('InvalidRequest')('Images from AWS Marketplace cannot be copied to another AWS account.'),
  amiNotAvailable: (id: string, state: string) =>
    client('InvalidAMIID.Unavailable')(`The image id '[${id}]' is not available: its state is '${state}'.`),

  // Key pairs
  keyPairNotFound: (name: string) => client('InvalidKeyPair.NotFound')(`The key pair '${name}' does not exist`),
  keyPairIdNotFound: (id: string) => client('InvalidKeyPair.NotFound')(`The key pair ID '${id}' does not exist`),
  keyPairDuplicate: (name: string) => client('InvalidKeyPair.Duplicate')(`The keypair '${name}' already exists.`),
  keyFormat: (detail: string) => client('InvalidKey.Format')(`Key is not in valid OpenSSH public key format: ${detail}`),

  // Network: VPCs, subnets, security groups (EC2 API error codes reference).
  vpcMalformed: (id: string) => client('InvalidVpcID.Malformed')(`Invalid id: "${id}" (expecting "vpc-...")`),
  vpcNotFound: (id: string) => client('InvalidVpcID.NotFound')(`The vpc ID '${id}' does not exist`),
  subnetMalformed: (id: string) => client('InvalidSubnetID.Malformed')(`Invalid id: "${id}" (expecting "subnet-...")`),
  subnetNotFound: (id: string) => client('InvalidSubnetID.NotFound')(`The subnet ID '${id}' does not exist`),
  groupIdMalformed: (id: string) => client('InvalidGroupId.Malformed')(`Invalid id: "${id}" (expecting "sg-...")`),
  groupNotFound: (id: string) => client('InvalidGroup.NotFound')(`The security group '${id}' does not exist`),
  groupNameNotFound: (name: string, vpcId: string) =>
    client('InvalidGroup.NotFound')(`The security group '${name}' does not exist in default VPC '${vpcId}'`),
  groupDuplicate: (name: string, vpcId: string) =>
    client('InvalidGroup.Duplicate')(`The security group '${name}' already exists for VPC '${vpcId}'`),
  groupReserved: (name: string) =>
    client('InvalidGroup.Reserved')(`The security group name '${name}' is reserved.`),
  groupCannotDelete: (id: string) =>
    client('CannotDelete')(`the specified group: "${id}" name: "default" cannot be deleted by a user`),
  groupInUse: (id: string) => client('DependencyViolation')(`resource ${id} has a dependent object`),
  groupLimitExceeded: (limit: number) =>
    client('SecurityGroupLimitExceeded')(`The maximum number of security groups per VPC (${limit}) has been reached.`),
  rulesPerGroupExceeded: (limit: number) =>
    client('RulesPerSecurityGroupLimitExceeded')(`The maximum number of rules per security group (${limit}) has been reached.`),
  groupsPerInterfaceExceeded: (limit: number) =>
    client('SecurityGroupsPerInstanceLimitExceeded')(`The maximum number of security groups per interface (${limit}) has been reached.`),
  permissionDuplicate: (rule: string) =>
    client('InvalidPermission.Duplicate')(`the specified rule "${rule}" already exists`),
  permissionNotFound: () => client('InvalidPermission.NotFound')('The specified rule does not exist in this security group.'),
  permissionMalformed: (detail: string) => client('InvalidPermission.Malformed')(detail),
  ruleIdMalformed: (id: string) => client('InvalidSecurityGroupRuleId.Malformed')(`Invalid id: "${id}" (expecting "sgr-...")`),
  ruleIdNotFound: (id: string) => client('InvalidSecurityGroupRuleId.NotFound')(`The security group rule ID '${id}' does not exist`),
  groupVpcMismatch: (groupId: string, vpcId: string) =>
    client('InvalidParameter')(`Security group ${groupId} and subnet belong to different networks than ${vpcId}.`),

  // Encryption (EC2): a KMS key the request names or the data needs, refused by KMS.
  keyNotAccessible: client('InvalidParameterValue'),
  invalidParameterDependency: client('InvalidParameterDependency'),
  keyInvalidState: client('IncorrectState'),
  encryptedNotPublic: client('OperationNotPermitted'),
  /** AWS: "You can't share snapshots that are encrypted with the default AWS managed key." */
  defaultKeyNotShareable: client('OperationNotPermitted'),
  decryptingCopy: () => client('InvalidParameterCombination')('A copy of an encrypted snapshot must be encrypted: Encrypted=false cannot decrypt it.'),

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

  // Recycle Bin (rest-json): codes, statuses and reasons from the rbin service model.
  rbinValidation: (message: string, reason = 'INVALID_PARAMETER_VALUE') =>
    new ServiceError('ValidationException', 400, message, { Reason: reason }),
  rbinRuleNotFound: (id: string) =>
    new ServiceError('ResourceNotFoundException', 404, `Rule ${id} does not exist.`, { Reason: 'RULE_NOT_FOUND' }),
  rbinRuleState: (message: string) =>
    new ServiceError('ConflictException', 409, message, { Reason: 'INVALID_RULE_STATE' }),
  rbinQuotaExceeded: (message: string) =>
    new ServiceError('ServiceQuotaExceededException', 402, message, { Reason: 'SERVICE_QUOTA_EXCEEDED' }),
  /** An IAM-style user's identity policies do not allow the call (AWS's AccessDeniedException, 403). */
  rbinAccessDenied: (message: string) => new ServiceError('AccessDeniedException', 403, message),
  rbinInternal: () => new ServiceError('InternalServerException', 500, 'An internal error occurred. Retry the request.'),
  // Image Builder (rest-json): codes and statuses from the imagebuilder service model; messages
  // in Image Builder's own style. Every Image Builder error is made by one of these.
  ibInvalidParameterValue: (message: string) => new ServiceError('InvalidParameterValueException', 400, message),
  ibInvalidParameter: (message: string) => new ServiceError('InvalidParameterException', 400, message),
  ibInvalidParameterCombination: (message: string) => new ServiceError('InvalidParameterCombinationException', 400, message),
  ibInvalidRequest: (message: string) => new ServiceError('InvalidRequestException', 400, message),
  ibInvalidVersionNumber: (message: string) => new ServiceError('InvalidVersionNumberException', 400, message),
  ibInvalidPaginationToken: () => new ServiceError('InvalidPaginationTokenException', 400, 'The provided pagination token is invalid.'),
  ibAlreadyExists: (message: string) => new ServiceError('ResourceAlreadyExistsException', 400, message),
  ibDependency: (message: string) => new ServiceError('ResourceDependencyException', 400, message),
  ibInUse: (message: string) => new ServiceError('ResourceInUseException', 400, message),
  ibNotFound: (message: string) => new ServiceError('ResourceNotFoundException', 404, message),
  ibIdempotentMismatch: (token: string) =>
    new ServiceError('IdempotentParameterMismatchException', 400, `The client token ${token} was already used with different parameters.`),
  ibQuotaExceeded: (message: string) => new ServiceError('ServiceQuotaExceededException', 402, message),
  ibForbidden: (message: string) => new ServiceError('ForbiddenException', 403, message),
  /** An IAM-style user's identity policies do not allow the call. */
  ibAccessDenied: (message: string) => new ServiceError('AccessDeniedException', 403, message),
  ibClient: (message: string) => new ServiceError('ClientException', 400, message),
  ibInternal: () => new ServiceError('ServiceException', 500, 'An internal error occurred. Retry the request.'),
  /** A dryRun request that would have succeeded (the model gives DryRunOperationException HTTP 412). */
  ibDryRun: () => new ServiceError('DryRunOperationException', 412, 'The request would have succeeded, but the dryRun flag is set.'),
  // EC2's side of the Recycle Bin.
  imageNotInRecycleBin: (id: string) => client('InvalidAMIID.NotFound')(`The image id '[${id}]' is not in the Recycle Bin`),
  snapshotNotInRecycleBin: (id: string) => client('InvalidSnapshot.NotFound')(`The snapshot '${id}' is not in the Recycle Bin.`),

  // KMS (json 1.1). Codes are the error shapes of KMS's model; the HTTP status is what the model
  // says (`fault` shapes 500, DryRunOperationException 412 by scripts/kms-model-patch.json, the
  // rest 400: src/api/kms/errors.test.ts checks). AccessDenied, Validation and UnknownOperation
  // are AWS-wide codes KMS's model does not list. Messages follow what KMS answers.
  kmsKeyNotFound: (keyArn: string) => client('NotFoundException')(`Key '${keyArn}' does not exist`),
  kmsAliasNotFound: (aliasArn: string) => client('NotFoundException')(`Alias ${aliasArn} is not found.`),
  kmsNotFound: client('NotFoundException'),
  kmsDisabled: (keyArn: string) => client('DisabledException')(`${keyArn} is disabled.`),
  kmsPendingDeletion: (keyArn: string) => client('KMSInvalidStateException')(`${keyArn} is pending deletion.`),
  kmsInvalidState: client('KMSInvalidStateException'),
  /** Which of these it was is not told, as KMS does not: that would help forge ciphertexts. */
  kmsInvalidCiphertext: () => client('InvalidCiphertextException')(
    'The ciphertext is not valid: it was altered, was not made by this KMS, or its encryption context differs.'),
  kmsIncorrectKey: () =>
    client('IncorrectKeyException')('The key ID in the request does not identify a KMS key that can perform this operation.'),
  kmsAccessDenied: (principalArn: string, action: string, resourceArn: string, explicitDeny = false) =>
    client('AccessDeniedException')(`User: ${principalArn} is not authorized to perform: ${action} on resource: ${resourceArn} `
      + (explicitDeny ? 'with an explicit deny in a resource-based policy' : `because no resource-based policy allows the ${action} action`)),
  /** An IAM user's identity policies do not allow the request; `detail` names user, action and resource. */
  kmsAccessDeniedByPolicy: (detail: string) => client('AccessDeniedException')(detail),
  kmsAliasExists: (aliasArn: string) => client('AlreadyExistsException')(`An alias with the name ${aliasArn} already exists`),
  kmsValidation: client('ValidationException'),
  kmsSerialization: client('SerializationException'),
  kmsInvalidKeyUsage: client('InvalidKeyUsageException'),
  kmsMalformedPolicy: client('MalformedPolicyDocumentException'),
  kmsInvalidAliasName: client('InvalidAliasNameException'),
  kmsInvalidGrantToken: () => client('InvalidGrantTokenException')('Invalid grant token.'),
  kmsInvalidGrantId: () => client('InvalidGrantIdException')('Invalid grant ID.'),
  kmsInvalidArn: client('InvalidArnException'),
  kmsInvalidMarker: () => client('InvalidMarkerException')('The marker is not valid; pass the NextMarker of the previous response.'),
  kmsTag: client('TagException'),
  kmsLimitExceeded: client('LimitExceededException'),
  kmsUnsupported: client('UnsupportedOperationException'),
  kmsDryRun: () => e('DryRunOperationException', 412)('The request would have succeeded, but the DryRun option is set.'),
  kmsUnknownOperation: (target: string) => client('UnknownOperationException')(`Unknown operation ${target}.`),
  kmsInternal: () => e('KMSInternalException', 500)('An internal error occurred. Retry the request; if it persists, check the server log for this request id.'),

  // Systems Manager parameters (AWS JSON 1.1: `__type` and `message`). Every code is one SSM's
  // model declares for the operation (InternalServerError the only `fault`, 500; the rest 400).
  ssmParameterNotFound: (name: string) => client('ParameterNotFound')(`Parameter ${name} not found.`),
  ssmParameterExists: () => client('ParameterAlreadyExists')(
    'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'),
  ssmVersionNotFound: (name: string, selector: string) => client('ParameterVersionNotFound')(
    `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`),
  ssmVersionLabelLimit: () => client('ParameterVersionLabelLimitExceeded')(
    'A parameter version can have a maximum of 10 labels. Remove some labels from this version and try again.'),
  ssmMaxVersions: (name: string) => client('ParameterMaxVersionLimitExceeded')(
    `Parameter ${name} has 100 versions and its oldest version has labels: move or remove them before adding a version.`),
  ssmHierarchyLevels: () => client('HierarchyLevelLimitExceededException')(
    'A hierarchy can have a maximum of 15 levels. Parameter name is not valid.'),
  ssmPatternMismatch: client('ParameterPatternMismatchException'),
  ssmInvalidAllowedPattern: (pattern: string) => client('InvalidAllowedPatternException')(`The AllowedPattern ${pattern} is not a valid regular expression.`),
  ssmUnsupportedType: (type: string) => client('UnsupportedParameterType')(`The parameter type ${type} is not supported.`),
  ssmInvalidKeyId: client('InvalidKeyId'),
  ssmValidation: client('ValidationException'),
  ssmSerialization: client('SerializationException'),
  ssmAccessDenied: client('AccessDeniedException'),
  ssmInvalidFilterKey: client('InvalidFilterKey'),
  ssmInvalidFilterOption: client('InvalidFilterOption'),
  ssmInvalidFilterValue: client('InvalidFilterValue'),
  ssmInvalidNextToken: () => client('InvalidNextToken')('The specified token is not valid.'),
  ssmInvalidResourceType: () => client('InvalidResourceType')('The resource type is not valid. amiforge tags Parameter resources only.'),
  ssmInvalidResourceId: () => client('InvalidResourceId')('The resource ID is not valid. Verify that you entered the correct ID and try again.'),
  ssmTooManyTags: () => client('TooManyTagsError')('The Targets parameter includes too many tags. A resource can have at most 50 tags.'),
  ssmTooManyUpdates: () => client('TooManyUpdates')('There are concurrent updates for a resource that supports one update at a time. Retry the request.'),
  ssmUnsupported: (action: string) => client('UnsupportedOperationException')(`amiforge does not implement the SSM operation ${action}; it serves parameters only.`),
  ssmUnknownOperation: (target: string) => client('UnknownOperationException')(`Unknown operation ${target}.`),
  ssmInternal: () => e('InternalServerError', 500)('An internal error occurred. Retry the request; if it persists, check the server log for this request id.'),

  // Image and snapshot governance (block public access, disabling, deprecation, protection)
  imagePublicSharingBlocked: () => client('OperationNotPermitted')(
    'You can’t publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API.'),
  snapshotPublicSharingBlocked: () => client('OperationNotPermitted')(
    'You can’t publicly share this snapshot because block public access for snapshots is enabled for this account in this Region. To publicly share the snapshot, you must call the DisableSnapshotBlockPublicAccess API.'),
  imageDeregistrationProtected: (id: string, until?: string) => client('OperationNotPermitted')(until
    ? `Image ${id} is protected from deregistration until ${until}: its protection was disabled with a 24-hour cooldown.`
    : `Image ${id} has deregistration protection enabled; disable it first.`),
  imageIncorrectState: (id: string, state: string, expected: string) =>
    client('IncorrectState')(`The image '${id}' is in state '${state}'; it must be '${expected}' for this operation.`),
  disabledImageNotShareable: (id: string) =>
    client('IncorrectState')(`The image '${id}' is disabled; a disabled AMI can't be shared. Enable it first (EnableImage).`),
  cancelOwnLaunchPermission: (id: string) =>
    client('OperationNotPermitted')(`You own image ${id}; only an account it is shared with can remove itself from its launch permissions.`),
  notSharedDirectly: (id: string) => client('OperationNotPermitted')(
    `Image ${id} is not shared with your account directly: you can remove your account only from an AMI shared with it, not from one that is public or shared with your organization or organizational unit.`),
  invalidDeprecateAt: (detail: string) => client('InvalidParameterValue')(detail),

  // Tags and resources
  invalidId: (id: string) => client('InvalidID')(`The ID '${id}' is not valid`),
  tagLimitExceeded: () => client('TagLimitExceeded')('The maximum number of Tags for a resource has been reached.'),
  invalidTagKey: (detail: string) => client('InvalidParameterValue')(detail),
} as const;

/** True when the value is a client-visible error rather than a bug. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}
