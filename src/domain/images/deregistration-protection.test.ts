// Deregistration protection's states over time, without a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredImage } from '../../ports/metadata-store.ts';
import { COOLDOWN_MS, currentProtection, deregistrationBlock, disabledProtection } from './deregistration-protection.ts';

const at = (iso: string) => new Date(iso);
const image = (deregistrationProtection?: string) => ({ deregistrationProtection }) as StoredImage;

test('disabling protection with a cooldown keeps the image protected for 24 hours, then reads disabled', () => {
  const now = at('2026-01-01T10:00:00.000Z');
  const value = disabledProtection('enabled-with-cooldown', now);
  assert.equal(value, 'disabled-until 2026-01-02T10:00:00.000Z');
  assert.deepEqual(deregistrationBlock(image(value), now), { until: '2026-01-02T10:00:00.000Z' });
  const justBefore = new Date(now.getTime() + COOLDOWN_MS - 1);
  assert.equal(currentProtection(value, justBefore), value);
  const end = new Date(now.getTime() + COOLDOWN_MS);
  assert.equal(currentProtection(value, end), 'disabled');
  assert.equal(deregistrationBlock(image(value), end), undefined);
});

test('disabling during a cooldown neither ends nor restarts it; without a cooldown it is disabled at once', () => {
  const value = disabledProtection('enabled-with-cooldown', at('2026-01-01T10:00:00.000Z'));
  assert.equal(disabledProtection(value, at('2026-01-01T20:00:00.000Z')), value);
  assert.equal(disabledProtection(value, at('2026-01-03T00:00:00.000Z')), 'disabled');
  assert.equal(disabledProtection('enabled-without-cooldown', at('2026-01-01T10:00:00.000Z')), 'disabled');
  assert.equal(disabledProtection(undefined, at('2026-01-01T10:00:00.000Z')), 'disabled');
});

test('enabled states block deregistration; disabled and unset do not', () => {
  const now = at('2026-01-01T10:00:00.000Z');
  assert.deepEqual(deregistrationBlock(image('enabled-without-cooldown'), now), {});
  assert.deepEqual(deregistrationBlock(image('enabled-with-cooldown'), now), {});
  assert.equal(deregistrationBlock(image('disabled'), now), undefined);
  assert.equal(deregistrationBlock(image(undefined), now), undefined);
});
