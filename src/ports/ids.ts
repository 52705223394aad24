import { randomBytes } from 'node:crypto';

/** Makes resource ids such as `ami-0123456789abcdef0` (17 hex digits, as AWS's long ids). */
export interface IdGenerator {
  next(prefix: string): string;
}

export const randomIds: IdGenerator = {
  // AWS's long ids are 17 hex digits and, so far, always begin with 0.
  next: (prefix) => `${prefix}-0${randomBytes(8).toString('hex')}`,
};

/** A unique request id in AWS's UUID form. */
export const newRequestId = (): string => crypto.randomUUID();
