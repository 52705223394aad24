// Allowed AMIs criteria: validation and the evaluation rules of the EC2 User Guide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredImage } from '../../ports/metadata-store.ts';
import type { ServiceError } from '../errors.ts';
import { isImageAllowed, validateCriteria } from './allowed-images-criteria.ts';

const ME = '111111111111';
const OTHER = '222222222222';
const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

const image = (over: Partial<StoredImage>): StoredImage => ({
  imageId: 'ami-0123456789abcdef0', ownerId: OTHER, name: 'golden-ami-1', state: 'available', creationDate: daysAgo(10), ...over,
});

const invalid = (fn: () => unknown, match: RegExp) => assert.throws(fn, (e: ServiceError) => e.code === 'InvalidParameterValue' && match.test(e.message));

test('own images are always allowed, even with no criteria or `none`', () => {
  assert.equal(isImageAllowed([], image({ ownerId: ME }), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageProviders: ['none'] }], image({ ownerId: ME }), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageProviders: ['none'] }], image({}), ME, NOW), false);
  assert.equal(isImageAllowed([], image({}), ME, NOW), false);
});

test('providers: aliases match the owner alias, account ids the owner', () => {
  assert.equal(isImageAllowed([{ ImageProviders: ['amazon'] }], image({ ownerAlias: 'amazon' }), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageProviders: ['amazon'] }], image({ ownerAlias: 'aws-marketplace' }), ME, NOW), false);
  assert.equal(isImageAllowed([{ ImageProviders: ['aws-backup-vault'] }], image({ ownerAlias: 'aws-backup-vault' }), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageProviders: ['amazon', OTHER] }], image({}), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageProviders: ['333333333333'] }], image({}), ME, NOW), false);
});

test('names with wildcards, marketplace product codes', () => {
  assert.equal(isImageAllowed([{ ImageNames: ['golden-ami-*'] }], image({}), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageNames: ['golden-ami-?'] }], image({}), ME, NOW), true);
  assert.equal(isImageAllowed([{ ImageNames: ['silver-*'] }], image({}), ME, NOW), false);
  const coded = image({ productCodes: [{ productCodeId: 'abc123', productCodeType: 'marketplace' }] });
  assert.equal(isImageAllowed([{ MarketplaceProductCodes: ['abc123'] }], coded, ME, NOW), true);
  assert.equal(isImageAllowed([{ MarketplaceProductCodes: ['zzz'] }], coded, ME, NOW), false);
  assert.equal(isImageAllowed([{ MarketplaceProductCodes: ['abc123'] }], image({}), ME, NOW), false);
});

test('creation and deprecation conditions', () => {
  assert.equal(isImageAllowed([{ CreationDateCondition: { MaximumDaysSinceCreated: 11 } }], image({}), ME, NOW), true);
  assert.equal(isImageAllowed([{ CreationDateCondition: { MaximumDaysSinceCreated: 10 } }], image({}), ME, NOW), false);
  const dep = { DeprecationTimeCondition: { MaximumDaysSinceDeprecated: 0 } };
  assert.equal(isImageAllowed([dep], image({}), ME, NOW), true, 'never deprecated');
  assert.equal(isImageAllowed([dep], image({ deprecationTime: daysAgo(-5) }), ME, NOW), true, 'deprecated in the future');
  assert.equal(isImageAllowed([dep], image({ deprecationTime: daysAgo(0) }), ME, NOW), false, '0 excludes every deprecated image');
  assert.equal(isImageAllowed([{ DeprecationTimeCondition: { MaximumDaysSinceDeprecated: 30 } }], image({ deprecationTime: daysAgo(3) }), ME, NOW), true);
  assert.equal(isImageAllowed([{ DeprecationTimeCondition: { MaximumDaysSinceDeprecated: 2 } }], image({ deprecationTime: daysAgo(3) }), ME, NOW), false);
});

test('parameters of a criterion AND together; criteria OR together', () => {
  const both = { ImageProviders: [OTHER], ImageNames: ['silver-*'] };
  assert.equal(isImageAllowed([both], image({}), ME, NOW), false);
  assert.equal(isImageAllowed([both, { ImageNames: ['golden-*'] }], image({}), ME, NOW), true);
});

test('validation keeps what was given and refuses what AWS refuses', () => {
  assert.deepEqual(validateCriteria(undefined), []);
  assert.deepEqual(validateCriteria([{ ImageProviders: ['amazon'], CreationDateCondition: { MaximumDaysSinceCreated: 0 } }]),
    [{ ImageProviders: ['amazon'], CreationDateCondition: { MaximumDaysSinceCreated: 0 } }]);
  invalid(() => validateCriteria(Array.from({ length: 11 }, () => ({ ImageProviders: ['amazon'] }))), /maximum of 10/);
  validateCriteria(Array.from({ length: 10 }, () => ({ ImageProviders: ['amazon'] })));
  invalid(() => validateCriteria([{ ImageProviders: Array.from({ length: 201 }, () => OTHER) }]), /maximum is 200/);
  validateCriteria([{ ImageProviders: Array.from({ length: 200 }, () => OTHER) }]);
  invalid(() => validateCriteria([{ ImageNames: Array.from({ length: 51 }, () => 'a') }]), /maximum is 50/);
  invalid(() => validateCriteria([{ MarketplaceProductCodes: Array.from({ length: 51 }, () => 'a') }]), /maximum is 50/);
  invalid(() => validateCriteria([{ ImageProviders: ['amazonn'] }]), /amazonn/);
  invalid(() => validateCriteria([{ ImageProviders: ['12345'] }]), /12345/);
  invalid(() => validateCriteria([{ ImageProviders: ['none', 'amazon'] }]), /none/);
  invalid(() => validateCriteria([{ ImageNames: ['a?'] }]), /at least 3/);
  invalid(() => validateCriteria([{ ImageNames: ['x'.repeat(129)] }]), /1-128/);
  invalid(() => validateCriteria([{ ImageNames: ['bad#name'] }]), /bad#name/);
  invalid(() => validateCriteria([{ MarketplaceProductCodes: ['has-dash'] }]), /has-dash/);
  invalid(() => validateCriteria([{ CreationDateCondition: { MaximumDaysSinceCreated: -1 } }]), /-1/);
  invalid(() => validateCriteria([{}]), /no criteria/);
});
