/**
 * Per-endpoint admission for one worker.
 *
 * - Sending: at most the endpoint's current limit of requests at once (one for `fifo`). The limit
 *   adapts between 1 and `maxPerEndpoint` (core/concurrency-limit.ts): it starts at a quarter of
 *   the cap, grows with every answer and halves on every timeout, so slow or dead endpoints hold
 *   few of the worker's slots.
 * - Claiming: up to twice that may be claimed, so the next batch waits in the worker and goes
 *   out the moment a request ends, without a store round trip per delivery.
 * - `rate_limit_rps`: a token bucket (core/token-bucket.ts) consumed at claim time. A delivery held back here is simply
 *   not claimed yet, so it does not use up an attempt.
 */
import { initialConcurrencyLimit, nextConcurrencyLimit, type AttemptEnd } from '../core/concurrency-limit.js';
import { refill, takeToken, type Bucket } from '../core/token-bucket.js';

export class EndpointThrottle {
  private readonly claimed = new Map<string, number>();
  private readonly sending = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket & { rps: number }>();
  private readonly rateLimited = new Map<string, number>();
  /** Each endpoint's ordering and rate limit as last claimed: saturated() needs its claim cap. */
  private readonly kinds = new Map<string, { ordering: string; rps: number | null }>();
  /** Adaptive in-flight limit per endpoint; absent = not seen yet (the initial limit). */
  private readonly limits = new Map<string, number>();

  constructor(private readonly maxPerEndpoint: number) {}

  /** The endpoint's current limit on requests in flight. */
  limit(endpointId: string): number {
    return this.limits.get(endpointId) ?? initialConcurrencyLimit(this.maxPerEndpoint);
  }

  /** An attempt ended: an answer (any status) raises the endpoint's limit, a timeout lowers it. */
  attemptEnded(endpointId: string, end: AttemptEnd): void {
    this.limits.set(endpointId, nextConcurrencyLimit(this.limit(endpointId), end, this.maxPerEndpoint));
  }

  private sendCap(endpointId: string, ordering: string): number {
    return ordering === 'fifo' ? 1 : this.limit(endpointId);
  }

  private claimCap(endpointId: string, ordering: string, rps: number | null): number {
    if (ordering === 'fifo') return 1;
    // With a rate limit, claim no more than may be sent now: a token is spent per claim.
    return rps !== null && rps > 0 ? this.limit(endpointId) : 2 * this.limit(endpointId);
  }

  /** May one more delivery of this endpoint be claimed now? Counts it when so. */
  tryClaim(endpointId: string, ordering: string, rps: number | null, now: number): boolean {
    this.kinds.set(endpointId, { ordering, rps });
    if ((this.claimed.get(endpointId) ?? 0) >= this.claimCap(endpointId, ordering, rps)) return false;
    if (rps !== null && rps > 0) {
      const waitUntil = takeToken(this.refill(endpointId, rps, now), rps);
      if (waitUntil !== null) {
        this.rateLimited.set(endpointId, waitUntil);
        return false;
      }
    }
    this.claimed.set(endpointId, (this.claimed.get(endpointId) ?? 0) + 1);
    return true;
  }

  /** A claim that will not be sent after all (rolled back, or handed back at shutdown). */
  unclaim(endpointId: string): void {
    decrement(this.claimed, endpointId);
  }

  canSend(endpointId: string, ordering: string): boolean {
    return (this.sending.get(endpointId) ?? 0) < this.sendCap(endpointId, ordering);
  }

  startSending(endpointId: string): void {
    this.sending.set(endpointId, (this.sending.get(endpointId) ?? 0) + 1);
  }

  /** The request ended: frees both its sending slot and its claim. */
  doneSending(endpointId: string): void {
    decrement(this.sending, endpointId);
    decrement(this.claimed, endpointId);
  }

  /** Whether saturated() would let this endpoint's line take a new batch. */
  mayClaimMore(endpointId: string): boolean {
    const n = this.claimed.get(endpointId) ?? 0;
    const kind = this.kinds.get(endpointId) ?? { ordering: 'none', rps: null };
    // Refill a plain endpoint's line only once a whole sending batch has gone out, so one claim
    // takes many rows instead of one claim per finished request.
    const plain = kind.ordering !== 'fifo' && !(kind.rps !== null && kind.rps > 0);
    return n < this.claimCap(endpointId, kind.ordering, kind.rps) && (!plain || n <= this.limit(endpointId));
  }

  /** Whether the endpoint could not take another delivery now (line full, fifo head claimed, out of tokens). */
  isSaturated(endpointId: string, now: number): boolean {
    return !this.mayClaimMore(endpointId) || (this.rateLimited.get(endpointId) ?? 0) > now;
  }

  /**
   * Endpoints the claim should skip (isSaturated). Skipping them in the query matters: otherwise
   * their backlog fills the claim window and hides every other endpoint's due work. Only endpoints
   * with claims or a token wait can be saturated.
   */
  saturated(now: number): string[] {
    for (const [id, until] of this.rateLimited) if (until <= now) this.rateLimited.delete(id);
    return [...new Set([...this.claimed.keys(), ...this.rateLimited.keys()])].filter((id) => this.isSaturated(id, now));
  }

  /** Earliest time a rate-limited endpoint gets a token again, or null when none waits. */
  nextTokenAt(now: number): number | null {
    let min: number | null = null;
    for (const until of this.rateLimited.values()) if (until > now && (min === null || until < min)) min = until;
    return min;
  }

  private refill(endpointId: string, rps: number, now: number) {
    const current = this.buckets.get(endpointId);
    const b = { ...refill(current && current.rps === rps ? current : undefined, rps, now), rps };
    this.buckets.set(endpointId, b);
    return b;
  }

  /** Another process's view of the endpoint's limit (the shared bucket) says: no tokens until then. */
  holdUntil(endpointId: string, until: number): void {
    this.rateLimited.set(endpointId, until);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
