// What PutParameter checks about a value before storing it: its size per tier, its KeyId, its
// AllowedPattern, and for data type aws:ec2:image that it names an image the caller can see.
import { createContext, Script } from 'node:vm';
import { Errors } from '../errors.ts';

const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
/** How long one AllowedPattern may run: a catastrophically backtracking pattern must not stall the server. */
const PATTERN_TIME_LIMIT_MS = 100;
const patternSandbox = createContext({ pattern: '', value: '' });
const patternTest = new Script('new RegExp(pattern, "u").test(value)');

export interface ValueToCheck {
  type: string;
  dataType: string;
  tier: string;
  value: string;
  allowedPattern?: string;
  keyId?: string;
}

export async function checkValue(v: ValueToCheck, imageVisible: (imageId: string) => Promise<boolean>): Promise<void> {
  if (!['String', 'StringList', 'SecureString'].includes(v.type)) throw Errors.ssmUnsupportedType(v.type);
  const max = v.tier === 'Advanced' ? 8192 : 4096;
  if (v.value.length === 0) throw Errors.ssmValidation('1 validation error detected: Value at \'value\' failed to satisfy constraint: Member must have length greater than or equal to 1.');
  if (v.value.length > max) {
    throw Errors.ssmValidation(`1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${max} (${v.tier} tier).`);
  }
  if (v.keyId !== undefined && v.type !== 'SecureString') throw Errors.ssmValidation(`KeyId can be specified only for SecureString parameters, not ${v.type}.`);
  if (v.allowedPattern !== undefined && !matchesAllowedPattern(v.allowedPattern, v.value)) {
    throw Errors.ssmPatternMismatch(`Parameter value, cannot be validated against allowedPattern: ${v.allowedPattern}`);
  }
  if (v.dataType === 'text') return;
  if (v.dataType !== 'aws:ec2:image') {
    throw Errors.ssmValidation(`The following data type is not supported: ${v.dataType} (Data type names are all lowercase: text, aws:ec2:image.)`);
  }
  if (v.type !== 'String') throw Errors.ssmValidation('Data type aws:ec2:image is supported for String parameters only.');
  if (!AMI_ID.test(v.value)) throw Errors.ssmPatternMismatch('Parameter value must be in format ami-12345abcdeEXAMPLE for data type aws:ec2:image.');
  // AWS validates asynchronously and leaves a bad version unusable; amiforge refuses at once,
  // so a pipeline learns of the mistake from PutParameter's answer.
  if (!await imageVisible(v.value)) {
    throw Errors.ssmValidation(`Unable to Describe Resource: the image ${v.value} does not exist or is not visible to your account in this Region.`);
  }
}

/**
 * Whether `value` matches the AllowedPattern (searched, as RegExp.test). The expression runs with
 * a time limit: one that does not finish in time is a mismatch, not a stalled event loop.
 */
function matchesAllowedPattern(pattern: string, value: string): boolean {
  try {
    new RegExp(pattern, 'u');
  } catch {
    throw Errors.ssmInvalidAllowedPattern(pattern);
  }
  Object.assign(patternSandbox, { pattern, value });
  try {
    return patternTest.runInContext(patternSandbox, { timeout: PATTERN_TIME_LIMIT_MS }) === true;
  } catch {
    return false;
  } finally {
    Object.assign(patternSandbox, { pattern: '', value: '' });
  }
}
