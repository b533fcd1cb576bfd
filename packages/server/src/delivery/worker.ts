/**
 * The delivery worker: claims due deliveries in batches, sends each with its own deadline, records
 * the attempt and schedules what comes next. It never polls tightly: it sleeps until it is woken
 * (a new message, a finished attempt), until the next retry is due, or until the safety-net poll.
 */
import type { Logger } from 'pino';
import type { AutoDisableLimits } from '../core/auto-disable.js';
import { redactHeaders } from '../core/endpoint-rules.js';
import { decodeBody } from '../core/ingest-rules.js';
import { newRequestId } from '../core/request-id.js';
import { DEFAULT_RETRY_SCHEDULE, decideAfterAttempt, parseRetryAfter } from '../core/retry-policy.js';
import { signatureHeaders } from '../core/signing.js';
import type { Metrics } from '../ops/metrics.js';
import type { Tracing } from '../ops/tracing.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { EndpointThrottle } from './endpoint-throttle.js';
import type { Sender } from './sender.js';

/** How long a woken worker with attempts in flight waits for more slots to free before claiming. */
const CLAIM_COALESCE_MS = 2;

/** A timer, not a microtask: lets I/O, timers and signal handlers run in between. */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WorkerOptions {
  concurrency: number;
  endpointConcurrency: number;
  claimBatchSize: number;
  leaseSeconds: number;
  pollIntervalMs: number;
  defaultTimeoutMs: number;
  throttleMinDelaySeconds: number;
  /** The server's auto-disable limits (HOOKBRIDGE_DISABLE_*), for projects and endpoints that set none. */
  autoDisable: AutoDisableLimits;
}

export class DeliveryWorker {
  private readonly throttle: EndpointThrottle;
  private readonly inFlight = new Map<string, { endpointId: string; abort: AbortController; done: Promise<void> }>();
  /** Claimed deliveries waiting in this worker for a free slot of their endpoint, by endpoint. */
  private readonly waiting = new Map<string, Array<{ d: ClaimedDelivery; secrets: string[] }>>();
  private waitingCount = 0;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private lastLeaseSweep = 0;
  private lastDueQuery = 0;
  /** Earliest retry this worker scheduled itself and has not claimed since. */
  private retryDueAt = Infinity;
  /**
   * False after a claim found nothing, until something happens that could change that: a wake,
   * an endpoint leaving saturation, a retry coming due, or a poll interval passing. Under load,
   * most finished requests would otherwise each run a claim that scans the backlog of a busy
   * endpoint only to skip it.
   */
  private claimMayFind = true;
  private lastClaimAt = 0;

  constructor(
    private readonly store: Store,
    private readonly senders: { outbound: Sender; forward: Sender; portal: Sender },
    private readonly opts: WorkerOptions,
    private readonly log: Logger,
    /** Counts attempts and finished deliveries; traces attempts when tracing is on. */
    private readonly observe: { metrics?: Metrics; tracing?: Tracing | null } = {},
  ) {
    this.throttle = new EndpointThrottle(opts.endpointConcurrency);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop().catch((err) => this.log.fatal({ err }, 'delivery loop crashed'));
  }

  /**
   * Something may be due now (a message was accepted, an action queued a delivery). With the
   * endpoints it concerns, a claim is worth it only if one of them can take more now: under load
   * most publishes go to endpoints whose line is full, and a claim that must skip their backlog
   * costs more the longer it is (an endpoint leaving saturation wakes the loop itself).
   */
  wake(endpointIds?: string[]): void {
    if (endpointIds && this.running) {
      const now = Date.now();
      if (endpointIds.every((id) => this.throttle.isSaturated(id, now))) return;
    }
    this.claimMayFind = true;
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * The endpoint was paused, disabled or deleted: deliveries claimed for it and still waiting in
   * this worker go back to the store, which parks or cancels them as the endpoint's status says.
   * (Requests already on the wire finish.)
   */
  endpointChanged(endpointId: string): void {
    this.dropWaitingLine(endpointId);
  }

  private dropWaitingLine(endpointId: string): void {
    const line = this.waiting.get(endpointId);
    if (!line) return;
    this.waiting.delete(endpointId);
    this.waitingCount -= line.length;
    for (let i = 0; i < line.length; i++) this.throttle.unclaim(endpointId);
    this.store.deliveries
      .releaseLeases(
        line.map((w) => w.d.id),
        Date.now(),
      )
      .catch((err) => this.log.error({ err, endpoint: endpointId }, 'could not hand back claimed deliveries; their lease will'));
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
    const waitingIds: string[] = [];
    for (const [endpointId, line] of this.waiting) {
      for (const { d } of line) {
        waitingIds.push(d.id);
        this.throttle.unclaim(endpointId);
      }
    }
    this.waiting.clear();
    this.waitingCount = 0;
    await this.store.deliveries.releaseLeases(waitingIds, Date.now());
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
      try {
        const claimed = await this.claimRound();
        if (!this.running) break;
        const full = this.inFlight.size >= this.opts.concurrency || this.waitingCount >= this.opts.concurrency;
        if (claimed > 0 && !full) continue;
        if (this.woken) {
          // Slots free up one attempt at a time. Gathering them for a moment before claiming
          // turns many one-row claim transactions into a few batched ones.
          await delay(this.inFlight.size > 0 ? CLAIM_COALESCE_MS : 0);
          continue;
        }
        await this.sleep(full ? this.opts.pollIntervalMs : await this.idleWait());
      } catch (err) {
        // Any store error (claim, lease sweep, due-time query) only pauses the loop: it must
        // never end it, or the API would keep accepting work that nothing sends.
        this.log.error({ err }, 'delivery loop error; retrying after the poll interval');
        await this.sleep(this.opts.pollIntervalMs);
      }
    }
  }

  /** One pass: sweep expired leases now and then, and claim when a claim could find something. */
  private async claimRound(): Promise<number> {
    const now = Date.now();
    if (now >= this.retryDueAt || now - this.lastClaimAt >= this.opts.pollIntervalMs) this.claimMayFind = true;
    if (now - this.lastLeaseSweep >= this.opts.pollIntervalMs) {
      this.lastLeaseSweep = now;
      if ((await this.store.deliveries.releaseExpiredLeases(now)) > 0) this.claimMayFind = true;
    }
    return this.claimMayFind ? this.claimAndDispatch() : 0;
  }

  private async claimAndDispatch(): Promise<number> {
    const now = Date.now();
    this.lastClaimAt = now;
    this.claimMayFind = false;
    if (this.retryDueAt <= now) this.retryDueAt = Infinity;
    // Deliveries waiting in the worker are bounded on their own, so endpoints that hang (and
    // keep a full line waiting) cannot use up the slots that healthy endpoints send with.
    const room = Math.min(this.opts.claimBatchSize, this.opts.concurrency - this.inFlight.size, this.opts.concurrency - this.waitingCount);
    if (room <= 0) return 0;
    const taken: string[] = [];
    let claimed: ClaimedDelivery[];
    let secrets: Map<string, string[]>;
    try {
      claimed = await this.store.deliveries.claimDue({
        now,
        limit: room,
        leaseMs: this.opts.leaseSeconds * 1000,
        defaultTimeoutMs: this.opts.defaultTimeoutMs,
        endpointConcurrency: this.opts.endpointConcurrency,
        onRateLimited: (id, until) => this.throttle.holdUntil(id, until),
        excludeEndpointIds: this.throttle.saturated(now),
        takeSlot: (endpointId, ordering, rps) => {
          const ok = this.throttle.tryClaim(endpointId, ordering, rps, now);
          if (ok) taken.push(endpointId);
          return ok;
        },
      });
      secrets = await this.store.endpoints.activeSecrets([...new Set(claimed.map((c) => c.endpointId))], now);
    } catch (err) {
      // Give back what the claim counted, or the endpoints would stay "busy" for good; a claim
      // that did commit comes back through its lease.
      for (const id of taken) this.throttle.unclaim(id);
      throw err;
    }
    if (claimed.length === 0) return 0;
    this.claimMayFind = true;
    for (const d of claimed) {
      const line = this.waiting.get(d.endpointId) ?? [];
      line.push({ d, secrets: secrets.get(d.endpointId) ?? [] });
      this.waiting.set(d.endpointId, line);
      this.waitingCount++;
    }
    for (const id of new Set(claimed.map((c) => c.endpointId))) this.sendWaiting(id);
    return claimed.length;
  }

  /** Starts as many of an endpoint's waiting deliveries as it has free sending slots. */
  private sendWaiting(endpointId: string): void {
    const line = this.waiting.get(endpointId);
    while (line && line.length > 0 && this.throttle.canSend(endpointId, line[0].d.ordering)) {
      const { d, secrets } = line.shift()!;
      this.waitingCount--;
      this.throttle.startSending(endpointId);
      this.dispatch(d, secrets);
    }
    if (line && line.length === 0) this.waiting.delete(endpointId);
  }

  /**
   * Milliseconds until something may be due: the next retry, a rate-limit token, or the poll.
   * While attempts are in flight their completions wake the loop anyway, and the retries they
   * schedule are known here, so the store is asked only when idle or once per poll interval.
   */
  private async idleWait(): Promise<number> {
    const now = Date.now();
    let until = Math.min(now + this.opts.pollIntervalMs, this.retryDueAt);
    if (this.inFlight.size === 0 || now - this.lastDueQuery >= this.opts.pollIntervalMs) {
      this.lastDueQuery = now;
      const nextDue = await this.store.deliveries.nextDueAt(this.throttle.saturated(now));
      if (nextDue !== null) until = Math.min(until, nextDue);
    }
    const token = this.throttle.nextTokenAt(now);
    if (token !== null) until = Math.min(until, token);
    if (until <= now) this.claimMayFind = true;
    return Math.max(0, until - now);
  }

  /** Sleeps until the timer or a wake. Always yields to the event loop, even for 0 ms. */
  private sleep(ms: number): Promise<void> {
    if (this.woken) return delay(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        this.claimMayFind = true;
        resolve();
      }, Math.max(1, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  private dispatch(d: ClaimedDelivery, secrets: string[]): void {
    const abort = new AbortController();
    let endpointSlotHeld = true;
    // The endpoint's slot bounds requests to the endpoint, so it is freed as soon as the HTTP
    // exchange ends (the next waiting delivery goes out at once); the worker-wide slot is held
    // until the attempt is recorded.
    const releaseEndpointSlot = () => {
      if (!endpointSlotHeld) return;
      endpointSlotHeld = false;
      this.throttle.doneSending(d.endpointId);
      this.sendWaiting(d.endpointId);
      // Worth a claim only once the endpoint's line is short enough to take a new batch.
      if (this.throttle.mayClaimMore(d.endpointId)) this.wake();
    };
    const done = this.attempt(d, secrets, abort.signal, releaseEndpointSlot)
      .catch((err) => this.log.error({ err, delivery: d.id }, 'recording an attempt failed; the lease will bring it back'))
      .finally(() => {
        const wasFull = this.inFlight.size + this.waitingCount >= this.opts.concurrency;
        this.inFlight.delete(d.id);
        releaseEndpointSlot();
        // Freeing the endpoint's slot already woke the loop; a finished record matters only
        // when the worker-wide slots were what held claims back — or when the store counts the
        // endpoint's leases for all workers (PostgreSQL): the lease ends with the record, so a
        // claim made when the request ended still saw it and took less than the endpoint's share.
        if (wasFull || this.store.dialect.sharedWorkers) this.wake();
      });
    this.inFlight.set(d.id, { endpointId: d.endpointId, abort, done });
  }

  private async attempt(d: ClaimedDelivery, secrets: string[], signal: AbortSignal, sent: () => void): Promise<void> {
    const startedAt = Date.now();
    // Every attempt is its own request: its id goes to the receiver, the attempt row and the log.
    const requestId = newRequestId();
    const { headers, body } = requestFor(d, secrets, startedAt, requestId);
    const sender = d.direction === 'inbound' ? this.senders.forward : d.urlSetInPortal ? this.senders.portal : this.senders.outbound;
    const span = this.observe.tracing?.attemptStarted(d, startedAt);
    const res = await sender.send({ url: d.url, headers, body, timeoutMs: d.timeoutMs ?? this.opts.defaultTimeoutMs, signal });
    if (res.aborted) return span?.end(); // shutdown: the lease is handed back in stop()
    this.observe.metrics?.attemptMade(res.statusCode, res.errorClass, res.durationMs);
    this.throttle.attemptEnded(d.endpointId, res.errorClass === 'timeout' ? 'timed_out' : 'answered');
    sent();
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
    const recorded = await this.store.deliveries.recordAttempt({
      delivery: d,
      startedAt,
      durationMs: res.durationMs,
      statusCode: res.statusCode,
      errorClass: res.errorClass,
      errorMessage: res.errorMessage,
      responseBody: res.responseBody,
      responseTruncated: res.responseTruncated,
      decision,
      autoDisable: this.opts.autoDisable,
      requestId,
      requestHeaders: shownHeaders(headers, d),
    });
    // A superseded record (the delivery was cancelled or handed back meanwhile) finished nothing.
    if (!recorded.superseded) this.observe.metrics?.deliveryFinished(recorded.status);
    if (recorded.streakError) this.log.warn({ err: recorded.streakError, endpoint: d.endpointId }, "could not count the attempt in the endpoint's failing streak");
    if (span) this.observe.tracing!.attemptEnded(span, res.statusCode, res.errorClass, recorded.status);
    if (decision.kind === 'retry') this.retryDueAt = Math.min(this.retryDueAt, startedAt + res.durationMs + decision.delayMs);
    if (recorded.endpointDisabled || (decision.kind === 'failed' && decision.disableEndpoint)) this.dropWaitingLine(d.endpointId);
    // The record published operational events (hookbridge.*): their deliveries are due now.
    if (recorded.queuedFor.length > 0) {
      this.wake(recorded.queuedFor);
      this.store.signal.notifyOthers();
    }
    // A fifo line moves only once its head is recorded, and a retry may now be due sooner than
    // the loop's current sleep: either way the loop must look again.
    if (d.ordering === 'fifo' || decision.kind === 'retry') this.wake();
    this.log.debug({ delivery: d.id, request_id: requestId, status: res.statusCode, error: res.errorClass, outcome: decision.kind }, 'attempt recorded');
  }
}

/** The headers sent, as the attempt log shows them: the endpoint's own header values may be credentials. */
function shownHeaders(sent: Record<string, string>, d: ClaimedDelivery): Record<string, string> {
  return d.direction === 'outbound' ? { ...sent, ...redactHeaders(d.headers) } : sent;
}

/**
 * The request for one attempt. Outbound: the payload as JSON with our headers. Forwarding an
 * inbound event: its original bytes and headers, re-signed with the inbound endpoint's own
 * Standard Webhooks secret so the receiving service verifies one scheme for every provider.
 */
function requestFor(d: ClaimedDelivery, secrets: string[], startedAt: number, requestId: string): { headers: Record<string, string>; body: string | Buffer } {
  const timestamp = Math.floor(startedAt / 1000);
  const tracking = { 'x-hookbridge-delivery-id': d.id, 'x-hookbridge-attempt': String(d.attemptNumber), 'x-hookbridge-request-id': requestId };
  if (d.direction === 'inbound') {
    const body = decodeBody(d.payload, d.bodyEncoding);
    return {
      body,
      headers: {
        ...d.forwardHeaders,
        ...signatureHeaders({ scheme: 'standard', messageId: d.messageId, timestamp, body, secrets }),
        'x-hookbridge-inbound-endpoint-id': d.endpointId,
        ...tracking,
      },
    };
  }
  return {
    body: d.payload,
    headers: {
      ...d.headers,
      'content-type': 'application/json',
      'user-agent': `Hookbridge/${VERSION}`,
      ...signatureHeaders({ scheme: d.signatureScheme, messageId: d.messageId, timestamp, body: d.payload, secrets }),
      'x-hookbridge-event-type': d.eventType,
      ...tracking,
    },
  };
}
