// ClientToken idempotency, as Image Builder documents it: a request repeated with the same token
// and the same parameters gets the first request's answer without acting again; the same token
// with different parameters is IdempotentParameterMismatchException. Only successful answers are
// kept, so a request that failed may be retried with its token. Tokens are per account, region and
// operation and kept as `client-token` records.
import { createHash } from 'node:crypto';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { LeaseKeeper } from '../../cluster/lease-keeper.ts';
import { exclusively } from '../../cluster/exclusive.ts';

interface TokenDoc {
  [key: string]: unknown;
  operation: string;
  requestHash: string;
  answer: Record<string, unknown>;
}

/** A stable hash of a request: keys sorted at every level, the token itself left out. */
export function requestHash(input: Record<string, unknown>): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  const { clientToken: _token, ...rest } = input;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex');
}

export class ClientTokenService {
  private readonly store: ImageBuilderRepository;
  private readonly clock: Clock;
  /** Requests in flight by token key: a repeat waits for the first instead of acting twice. */
  private readonly running = new Map<string, Promise<Record<string, unknown>>>();
  /** Several nodes on one store: a token's request acts under its lease, so a repeat on another node waits too. */
  private readonly leases?: Pick<LeaseKeeper, 'acquire' | 'release'>;

  constructor(deps: { store: ImageBuilderRepository; clock: Clock; leases?: Pick<LeaseKeeper, 'acquire' | 'release'> }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.leases = deps.leases;
  }

  /** Runs `act` once per (caller, operation, token); repeats get its first answer. */
  async once(caller: Caller, operation: string, token: string, input: Record<string, unknown>,
    act: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    const key = `client-token/${caller.account}/${caller.region}/${operation}/${token}`;
    const hash = requestHash(input);
    const inFlight = this.running.get(key);
    if (inFlight) await inFlight.catch(() => undefined);
    // Set before any await, so a repeat on this node waits for this one (and not the reverse).
    const run = exclusively(this.leases, `client-token:${key}`, async () => {
      const stored = await this.store.get(key);
      if (stored) {
        const doc = stored.doc as TokenDoc;
        if (doc.operation !== operation || doc.requestHash !== hash) throw Errors.ibIdempotentMismatch(token);
        return doc.answer;
      }
      const answer = await act();
      const now = this.clock.now().toISOString();
      const doc: TokenDoc = { operation, requestHash: hash, answer };
      await this.store.insert({ arn: key, kind: 'client-token', account: caller.account, region: caller.region, name: token, doc, createdAt: now, updatedAt: now });
      return answer;
    });
    this.running.set(key, run);
    try {
      return await run;
    } finally {
      if (this.running.get(key) === run) this.running.delete(key);
    }
  }
}
