/**
 * Tells pull long-polls and cli streams in this process that an inbound endpoint has a new
 * event. Other processes (PostgreSQL deployments) are not told: their waiters also poll the store
 * every POLL_MS, so an event accepted elsewhere is seen at most that much later.
 */
export const HUB_POLL_MS = 1000;

export class InboundHub {
  private readonly listeners = new Map<string, Set<() => void>>();

  notify(endpointId: string): void {
    for (const fn of this.listeners.get(endpointId) ?? []) fn();
  }

  /** Calls `fn` on every new event of the endpoint until the returned function is called. */
  subscribe(endpointId: string, fn: () => void): () => void {
    const set = this.listeners.get(endpointId) ?? new Set();
    set.add(fn);
    this.listeners.set(endpointId, set);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(endpointId);
    };
  }

  /** Resolves on the next event of the endpoint, after `ms`, or when `signal` aborts. */
  waitFor(endpointId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.subscribe(endpointId, done);
      signal?.addEventListener('abort', done);
    });
  }
}
