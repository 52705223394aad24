// Allocations that pick a free number and insert it: two nodes may pick the same one at once.
// The unique constraint refuses the second, which simply looks again.
import { isUniqueViolation } from './pg-database.ts';

/**
 * Every contender picks the same next number, and each round only one of them wins: n racing
 * allocations need up to n rounds. A short random pause spreads them out, and the cap is well
 * above the connections a node's pool runs at once.
 */
const MAX_ATTEMPTS = 100;

export async function retryOnUniqueViolation<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= MAX_ATTEMPTS) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 10)));
  }
}
