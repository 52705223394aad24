// Allocations that pick a free number and insert it: two nodes may pick the same one at once.
// The unique constraint refuses the second, which simply looks again.
import { isUniqueViolation } from './pg-database.ts';

const MAX_ATTEMPTS = 20;

export async function retryOnUniqueViolation<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}
