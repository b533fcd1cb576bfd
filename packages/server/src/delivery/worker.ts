/**
 * The delivery worker: claims due deliveries in batches, sends each with its own deadline, records
 * the attempt and schedules what comes next. It never polls tightly: it sleeps until it is woken
 * (a new message, a finished attempt), until the next retry is due, or until the safety-net poll.
 */
import type { Logger } from 'pino';
import { DEFAULT_RETRY_SCHEDULE, decideAfterAttempt, parseRetryAfter } from '../core/retry-policy.js';
import { signatureHeaders } from '../core/signing.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { EndpointThrottle } from './endpoint-throttle.js';
import type { Sender } from './sender.js';

export interface WorkerOptions {
  concurrency: number;
  endpointConcurrency: number;
  claimBatchSize: number;
  leaseSeconds: number;
  pollIntervalMs: number;
  defaultTimeoutMs: number;
  throttleMinDelaySeconds: number;
}

export class DeliveryWorker {
  private readonly throttle: EndpointThrottle;
  private readonly inFlight = new Map<string, { endpointId: string; abort: AbortController; done: Promise<void> }>();
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private lastLeaseSweep = 0;

  constructor(
    private readonly store: Store,
    private readonly sender: Sender,
    private readonly opts: WorkerOptions,
    private readonly log: Logger,
  ) {
    this.throttle = new EndpointThrottle(opts.endpointConcurrency);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop().catch((err) => this.log.fatal({ err }, 'delivery loop crashed'));
  }

  /** Something may be due now (a message was accepted, an action queued a delivery). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Drain: stop claiming, let in-flight attempts finish for up to graceMs, then abandon the rest
   * and hand their leases back so the next start delivers them at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.wake();
    await this.loopDone;
    const all = () => Promise.all([...this.inFlight.values()].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([all().then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (!finished) {
      const ids = [...this.inFlight.keys()];
      for (const f of this.inFlight.values()) f.abort.abort();
      await all();
      await this.store.deliveries.releaseLeases(ids, Date.now());
      this.log.warn({ abandoned: ids.length }, 'shutdown grace ended; unfinished attempts will be retried after restart');
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let claimed = 0;
      try {
        claimed = await this.claimAndDispatch();
      } catch (err) {
        this.log.error({ err }, 'claiming deliveries failed; retrying after the poll interval');
        await this.sleep(this.opts.pollIntervalMs);
        continue;
      }
      if (!this.running) break;
      const full = this.inFlight.size >= this.opts.concurrency;
      if (claimed > 0 && !full) continue;
      if (this.woken) continue;
      await this.sleep(full ? this.opts.pollIntervalMs : await this.idleWait());
    }
  }

  private async claimAndDispatch(): Promise<number> {
    const now = Date.now();
    if (now - this.lastLeaseSweep >= this.opts.pollIntervalMs) {
      this.lastLeaseSweep = now;
      await this.store.deliveries.releaseExpiredLeases(now);
    }
    const room = Math.min(this.opts.claimBatchSize, this.opts.concurrency - this.inFlight.size);
    if (room <= 0) return 0;
    const taken: string[] = [];
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.store.deliveries.claimDue({
        now,
        limit: room,
        leaseMs: this.opts.leaseSeconds * 1000,
        excludeEndpointIds: this.throttle.saturated(now),
        takeSlot: (endpointId, ordering, rps) => {
          const ok = this.throttle.tryTake(endpointId, ordering, rps, now);
          if (ok) taken.push(endpointId);
          return ok;
        },
      });
    } catch (err) {
      // The claim rolled back: give back the slots it took, or the endpoints would stay "busy".
      for (const id of taken) this.throttle.release(id);
      throw err;
    }
    if (claimed.length === 0) return 0;
    const secrets = await this.store.endpoints.activeSecrets([...new Set(claimed.map((c) => c.endpointId))], now);
    for (const d of claimed) this.dispatch(d, secrets.get(d.endpointId) ?? []);
    return claimed.length;
  }

  /** Milliseconds until something may be due: the next retry, a rate-limit token, or the poll. */
  private async idleWait(): Promise<number> {
    const now = Date.now();
    let until = now + this.opts.pollIntervalMs;
    const nextDue = await this.store.deliveries.nextDueAt(this.throttle.saturated(now));
    if (nextDue !== null) until = Math.min(until, nextDue);
    const token = this.throttle.nextTokenAt();
    if (token !== null) until = Math.min(until, token);
    return Math.max(0, until - now);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  private dispatch(d: ClaimedDelivery, secrets: string[]): void {
    const abort = new AbortController();
    const done = this.attempt(d, secrets, abort.signal)
      .catch((err) => this.log.error({ err, delivery: d.id }, 'recording an attempt failed; the lease will bring it back'))
      .finally(() => {
        this.inFlight.delete(d.id);
        this.throttle.release(d.endpointId);
        this.wake();
      });
    this.inFlight.set(d.id, { endpointId: d.endpointId, abort, done });
  }

  private async attempt(d: ClaimedDelivery, secrets: string[], signal: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const headers: Record<string, string> = {
      ...d.headers,
      'content-type': 'application/json',
      'user-agent': `Hookbridge/${VERSION}`,
      ...signatureHeaders({ scheme: d.signatureScheme, messageId: d.messageId, timestamp: Math.floor(startedAt / 1000), body: d.payload, secrets }),
      'x-hookbridge-event-type': d.eventType,
      'x-hookbridge-delivery-id': d.id,
      'x-hookbridge-attempt': String(d.attemptNumber),
    };
    const res = await this.sender.send({ url: d.url, headers, body: d.payload, timeoutMs: d.timeoutMs ?? this.opts.defaultTimeoutMs, signal });
    if (res.aborted) return; // shutdown: the lease is handed back in stop()
    const decision = decideAfterAttempt(
      { statusCode: res.statusCode ?? undefined, errorClass: res.errorClass ?? undefined, retryAfterSeconds: parseRetryAfter(res.retryAfter, Date.now()) },
      {
        attemptNumber: d.attemptNumber,
        attemptsInRun: d.runAttempts + 1,
        schedule: d.retrySchedule ?? d.projectSettings.retry_schedule ?? DEFAULT_RETRY_SCHEDULE,
        retryClientErrors: d.retryClientErrors,
        throttleMinDelaySeconds: this.opts.throttleMinDelaySeconds,
        random: Math.random(),
      },
    );
    await this.store.deliveries.recordAttempt({
      delivery: d,
      startedAt,
      durationMs: res.durationMs,
      statusCode: res.statusCode,
      errorClass: res.errorClass,
      errorMessage: res.errorMessage,
      responseBody: res.responseBody,
      responseTruncated: res.responseTruncated,
      decision,
    });
    this.log.debug({ delivery: d.id, status: res.statusCode, error: res.errorClass, outcome: decision.kind }, 'attempt recorded');
  }
}
