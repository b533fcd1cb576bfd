/**
 * Per-endpoint admission for one worker: a concurrency cap (so a slow or dead endpoint holds at
 * most a few of the worker's slots) and a token-bucket rate limit (`rate_limit_rps`). A delivery
 * held back here is simply not claimed yet, so it does not use up an attempt.
 */
export class EndpointThrottle {
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number; rps: number }>();
  private readonly rateLimited = new Map<string, number>();

  constructor(private readonly maxPerEndpoint: number) {}

  /** Takes a slot (and a token) if the endpoint has one free now. */
  tryTake(endpointId: string, ordering: string, rps: number | null, now: number): boolean {
    const cap = ordering === 'fifo' ? 1 : this.maxPerEndpoint;
    if ((this.inFlight.get(endpointId) ?? 0) >= cap) return false;
    if (rps !== null && rps > 0) {
      const b = this.refill(endpointId, rps, now);
      if (b.tokens < 1) {
        this.rateLimited.set(endpointId, b.at + ((1 - b.tokens) / rps) * 1000);
        return false;
      }
      b.tokens -= 1;
    }
    this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 0) + 1);
    return true;
  }

  release(endpointId: string): void {
    const n = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, n);
  }

  /**
   * Endpoints that cannot take work now: at their concurrency cap, or out of tokens. Concurrency
   * is checked against the ordinary cap; a busy fifo endpoint is left out by the claim query itself
   * (its head is `delivering`).
   */
  saturated(now: number): string[] {
    const out: string[] = [];
    for (const [id, n] of this.inFlight) if (n >= this.maxPerEndpoint) out.push(id);
    for (const [id, until] of this.rateLimited) {
      if (until > now) out.push(id);
      else this.rateLimited.delete(id);
    }
    return out;
  }

  /** Earliest time a rate-limited endpoint gets a token again, or null. */
  nextTokenAt(): number | null {
    let min: number | null = null;
    for (const until of this.rateLimited.values()) if (min === null || until < min) min = until;
    return min;
  }

  private refill(endpointId: string, rps: number, now: number) {
    let b = this.buckets.get(endpointId);
    if (!b || b.rps !== rps) {
      b = { tokens: rps, at: now, rps };
      this.buckets.set(endpointId, b);
    }
    // Burst of one second's worth: enough to absorb jitter, small enough to honour the limit.
    b.tokens = Math.min(rps, b.tokens + ((now - b.at) / 1000) * rps);
    b.at = now;
    return b;
  }
}
