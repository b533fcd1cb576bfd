/**
 * How many requests one endpoint may have in flight, adapted to how it answers (additive increase,
 * multiplicative decrease, as TCP does). A new endpoint starts at a quarter of the cap and gains
 * one per answered request (any status), so a healthy endpoint is at the cap after a few requests;
 * a timeout (connecting or waiting for the answer) halves it, down to one. Endpoints that hang hold
 * few of the worker's slots — even before their first timeout — and healthy endpoints keep theirs.
 */
export type AttemptEnd = 'answered' | 'timed_out';

export function initialConcurrencyLimit(cap: number): number {
  return Math.max(1, Math.ceil(cap / 4));
}

export function nextConcurrencyLimit(current: number, end: AttemptEnd, cap: number): number {
  if (end === 'timed_out') return Math.max(1, Math.floor(current / 2));
  return Math.min(cap, current + 1);
}
