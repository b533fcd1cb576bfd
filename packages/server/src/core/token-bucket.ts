/**
 * The per-endpoint rate-limit bucket (`rate_limit_rps`), shared by the in-process throttle and
 * the cross-process one in the PostgreSQL store. A burst of half a second's worth absorbs timing
 * jitter while keeping any 10 s window within 5 % of the limit.
 */
export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export function bucketCapacity(rps: number): number {
  return Math.max(1, rps / 2);
}

/** The bucket as of `now`: refilled at `rps` per second up to its capacity. */
export function refill(bucket: Bucket | undefined, rps: number, now: number): Bucket {
  if (!bucket) return { tokens: bucketCapacity(rps), at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(bucketCapacity(rps), bucket.tokens + (elapsed / 1000) * rps), at: Math.max(now, bucket.at) };
}

/** When the next whole token is there (ms), for a bucket with less than one. */
export function nextTokenAt(bucket: Bucket, rps: number): number {
  return bucket.at + (Math.max(0, 1 - bucket.tokens) / rps) * 1000;
}

/** Takes one token if there is one (null); otherwise returns when the next whole token comes. */
export function takeToken(bucket: Bucket, rps: number): number | null {
  if (bucket.tokens < 1) return nextTokenAt(bucket, rps);
  bucket.tokens -= 1;
  return null;
}
