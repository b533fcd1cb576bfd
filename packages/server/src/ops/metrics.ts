/**
 * Prometheus metrics of one Hookbridge server (GET /metrics, src/api/routes/prometheus.ts).
 *
 * Every server has its own Registry, never prom-client's global one: tests run many servers in
 * one process, and each must count only its own traffic. Process metrics (CPU, memory, event
 * loop, GC) describe the whole process, so they are collected once, into a registry every
 * server's scrape includes.
 *
 * The hot paths (an attempt, an API request, a store query) only increment counters and observe
 * histograms through label children looked up once: no label objects or strings built per call.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ATTEMPT_OUTCOMES, attemptOutcome, type AttemptOutcome } from '../core/attempt-outcome.js';
import type { DeliveryStatus } from '../core/model.js';
import type { ErrorClass } from '../core/retry-policy.js';
import type { Backlog } from '../store/metrics.js';

/** What an ingest request (POST /in/:id) came to: accepted, a duplicate, or why it was refused. */
export const INBOUND_RESULTS = [
  'accepted',
  'duplicate',
  'url_verification',
  'not_found',
  'ip_not_allowed',
  'endpoint_paused',
  'payload_too_large',
  'missing_signature',
  'invalid_signature',
  'timestamp_out_of_range',
  'invalid_token',
] as const;
export type InboundResult = (typeof INBOUND_RESULTS)[number];

const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
const BACKLOG_STATES = ['due', 'scheduled', 'delivering', 'paused', 'failed'] as const;
const QUERY_KINDS = ['select', 'insert', 'update', 'delete', 'other'] as const;
type QueryKind = (typeof QUERY_KINDS)[number];
/** 1xx … 5xx, indexed by the status code's first digit. */
const STATUS_CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** Frequent scrapes (several Prometheus servers, a short interval) share one backlog query. */
export const BACKLOG_CACHE_MS = 2000;

const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Observer = { observe(value: number): void };

export class Metrics {
  /** This server's own metrics. */
  readonly registry = new Registry();
  /** What a scrape shows: this server's metrics and the process's. */
  private readonly scraped: Registry;
  private readonly attempts: Record<AttemptOutcome, { inc(): void }>;
  private readonly attemptSeconds: Histogram;
  private readonly finished: Record<string, { inc(value?: number): void } | undefined> = {};
  private readonly inbound: Record<InboundResult, { inc(): void }>;
  private readonly messages: Counter;
  private readonly httpSeconds: Histogram<'method' | 'route' | 'status_class'>;
  /** route → method → status class → child, so a request builds no label set. */
  private readonly httpChildren = new Map<string, Map<string, Observer[]>>();
  private readonly querySeconds: Record<QueryKind, Observer>;
  private readonly backlogGauge: Gauge<'state'>;
  private readonly oldestDueGauge: Gauge;
  private readBacklog: (() => Promise<Backlog>) | null = null;
  private backlogLog: Logger | undefined;
  private backlogCache: { at: number; value: Promise<{ at: number; backlog: Backlog } | null> } | null = null;

  constructor() {
    const registers = [this.registry];
    const attempts = new Counter({
      name: 'hookbridge_delivery_attempts_total',
      help: 'Delivery attempts made by this process, by outcome: success (2xx), failure (any other answer or network error), timeout, blocked (refused by the SSRF guard).',
      labelNames: ['outcome'],
      registers,
    });
    for (const o of ATTEMPT_OUTCOMES) attempts.inc({ outcome: o }, 0);
    this.attempts = Object.fromEntries(ATTEMPT_OUTCOMES.map((o) => [o, attempts.labels(o)])) as Record<AttemptOutcome, { inc(): void }>;
    this.attemptSeconds = new Histogram({
      name: 'hookbridge_delivery_attempt_duration_seconds',
      help: 'Duration of delivery attempts (connect to the end of the response excerpt, or the error).',
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    const deliveries = new Counter({
      name: 'hookbridge_deliveries_total',
      help: 'Deliveries that reached a final status in this process: succeeded, failed (schedule exhausted or not retryable), cancelled (by a user, or their endpoint was deleted during an attempt).',
      labelNames: ['status'],
      registers,
    });
    for (const s of FINAL_STATUSES) {
      deliveries.inc({ status: s }, 0);
      this.finished[s] = deliveries.labels(s);
    }
    const inbound = new Counter({
      name: 'hookbridge_inbound_requests_total',
      help: 'Requests to ingest URLs (POST /in/{id}) by result: accepted, duplicate, url_verification (a Slack challenge), or the refusal reason.',
      labelNames: ['result'],
      registers,
    });
    for (const r of INBOUND_RESULTS) inbound.inc({ result: r }, 0);
    this.inbound = Object.fromEntries(INBOUND_RESULTS.map((r) => [r, inbound.labels(r)])) as Record<InboundResult, { inc(): void }>;
    this.messages = new Counter({ name: 'hookbridge_messages_total', help: 'Messages accepted by POST /v1/messages in this process (idempotent repeats not counted).', registers });
    this.httpSeconds = new Histogram({
      name: 'hookbridge_http_request_duration_seconds',
      help: 'API request durations by method, route pattern (unmatched for unknown paths) and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    const queries = new Histogram({
      name: 'hookbridge_store_query_duration_seconds',
      help: 'Store statement durations by kind (the first SQL keyword; other: CTEs, transaction control, DDL).',
      labelNames: ['kind'],
      buckets: QUERY_BUCKETS,
      registers,
    });
    for (const k of QUERY_KINDS) queries.zero({ kind: k });
    this.querySeconds = Object.fromEntries(QUERY_KINDS.map((k) => [k, queries.labels(k)])) as unknown as Record<QueryKind, Observer>;
    this.backlogGauge = new Gauge({
      name: 'hookbridge_backlog',
      help: 'Deliveries of all projects in the store by state: due (waiting, due now), scheduled (waiting for a retry or a fifo line), delivering, paused, failed. Read from the store at scrape time: every process sharing a database reports the same numbers.',
      labelNames: ['state'],
      registers,
      collect: () => this.collectBacklog(),
    });
    this.oldestDueGauge = new Gauge({
      name: 'hookbridge_backlog_oldest_due_age_seconds',
      help: 'How long the longest-waiting due delivery of the store has been due (0 when nothing is due). Store-wide, like hookbridge_backlog.',
      registers,
      collect: () => this.collectBacklog(),
    });
    for (const s of BACKLOG_STATES) this.backlogGauge.set({ state: s }, 0);
    this.scraped = Registry.merge([this.registry, processMetrics()]);
  }

  get contentType(): string {
    return this.scraped.contentType;
  }

  /** The Prometheus text exposition of everything. */
  scrape(): Promise<string> {
    return this.scraped.metrics();
  }

  /** The store query behind the backlog gauges (read at scrape time, cached BACKLOG_CACHE_MS). */
  watchBacklog(read: () => Promise<Backlog>, log?: Logger): void {
    this.readBacklog = read;
    this.backlogLog = log;
    this.backlogCache = null;
  }

  attemptMade(statusCode: number | null, errorClass: ErrorClass | null, durationMs: number): void {
    this.attempts[attemptOutcome(statusCode, errorClass)].inc();
    this.attemptSeconds.observe(durationMs / 1000);
  }

  /** Counts a delivery that reached `status`; statuses that are not final are ignored. */
  deliveryFinished(status: DeliveryStatus, count = 1): void {
    this.finished[status]?.inc(count);
  }

  inboundRequest(result: InboundResult): void {
    this.inbound[result].inc();
  }

  messageAccepted(): void {
    this.messages.inc();
  }

  /** One API request; `route` is the route pattern (undefined when no route matched). */
  httpRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    const pattern = route ?? 'unmatched';
    let byMethod = this.httpChildren.get(pattern);
    if (!byMethod) this.httpChildren.set(pattern, (byMethod = new Map()));
    let byClass = byMethod.get(method);
    if (!byClass) {
      byClass = STATUS_CLASSES.map((c) => this.httpSeconds.labels(method, pattern, c));
      byMethod.set(method, byClass);
    }
    byClass[Math.min(5, Math.max(1, Math.floor(statusCode / 100)))].observe(seconds);
  }

  /** The store's query observer (StoreOptions.onQuery). */
  readonly storeQuery = (sql: string, durationMs: number): void => {
    this.querySeconds[queryKind(sql)].observe(durationMs / 1000);
  };

  private backlog(): Promise<{ at: number; backlog: Backlog } | null> {
    const now = Date.now();
    if (this.backlogCache && now - this.backlogCache.at < BACKLOG_CACHE_MS) return this.backlogCache.value;
    const read = this.readBacklog!;
    const value = read().then(
      (backlog) => ({ at: now, backlog }),
      (err: unknown) => {
        this.backlogLog?.warn({ err }, 'could not read the backlog for /metrics');
        return null;
      },
    );
    this.backlogCache = { at: now, value };
    return value;
  }

  private async collectBacklog(): Promise<void> {
    if (!this.readBacklog) return;
    const snapshot = await this.backlog();
    if (!snapshot) {
      // Unknown (the store did not answer): NaN rather than stale numbers.
      for (const s of BACKLOG_STATES) this.backlogGauge.set({ state: s }, NaN);
      this.oldestDueGauge.set(NaN);
      return;
    }
    const { at, backlog } = snapshot;
    for (const s of BACKLOG_STATES) this.backlogGauge.set({ state: s }, backlog[s]);
    this.oldestDueGauge.set(backlog.oldestDueAt === null ? 0 : Math.max(0, at - backlog.oldestDueAt) / 1000);
  }
}

/** The statement's first keyword, without copying the text. */
function queryKind(sql: string): QueryKind {
  switch (sql.charCodeAt(0) | 0x20) {
    case 0x73: // s
      return /^select\b/i.test(sql) ? 'select' : 'other';
    case 0x69: // i
      return /^insert\b/i.test(sql) ? 'insert' : 'other';
    case 0x75: // u
      return /^update\b/i.test(sql) ? 'update' : 'other';
    case 0x64: // d
      return /^delete\b/i.test(sql) ? 'delete' : 'other';
    default:
      return 'other';
  }
}
