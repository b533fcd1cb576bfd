/**
 * Aggregates over attempts and deliveries for GET /v1/metrics and /v1/metrics/timeseries, and the
 * store-wide backlog the Prometheus gauges report.
 */
import { sql, type Kysely } from 'kysely';
import type { Direction } from './endpoints.js';
import type { Database } from './schema.js';

/** What the numbers cover: one direction of the project, optionally one endpoint of it. */
export interface MetricsScope {
  direction: Direction;
  endpointId?: string;
}

export interface MetricsSummary {
  totalMessages: number;
  deliveries: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  retries: number;
  avgLatencyMs: number | null;
  /** Inbound: ingest requests refused in the window. */
  rejected: number;
}

export interface TimeBucket {
  timestamp: number;
  succeeded: number;
  failed: number;
  retrying: number;
  total: number;
  avgLatencyMs: number | null;
}

/** Deliveries not finished (and failed ones), over all projects, by where they stand. */
export interface Backlog {
  /** queued or pending_retry and due now. */
  due: number;
  /** queued or pending_retry, due later or waiting behind the head of a fifo line. */
  scheduled: number;
  delivering: number;
  paused: number;
  failed: number;
  /** The earliest due time among the due ones, or null when nothing is due. */
  oldestDueAt: number | null;
}

export class MetricsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Endpoint ids of the scope, as a subquery (deliveries and attempts carry no direction). */
  private endpointsOf(projectId: string, scope: MetricsScope) {
    let q = this.db.selectFrom('endpoints').select('id').where('project_id', '=', projectId).where('direction', '=', scope.direction);
    if (scope.endpointId) q = q.where('id', '=', scope.endpointId);
    return q;
  }

  async summary(projectId: string, since: number, scope: MetricsScope): Promise<MetricsSummary> {
    const endpointId = scope.endpointId;
    let dq = this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .where('created_at', '>=', since)
      .groupBy('status');
    dq = dq.where('endpoint_id', 'in', this.endpointsOf(projectId, scope));
    let aq = this.db
      .selectFrom('attempts')
      .select([
        (eb) => eb.fn.countAll<number>().as('n'),
        (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'retry').then(1).else(0).end()).as('retries'),
        (eb) => eb.fn.avg<number>('duration_ms').as('avg'),
      ])
      .where('project_id', '=', projectId)
      .where('started_at', '>=', since);
    aq = aq.where('endpoint_id', 'in', this.endpointsOf(projectId, scope));
    let mq = this.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('created_at', '>=', since);
    if (scope.direction === 'inbound') {
      // Every accepted event counts, forwarded or held (pull and cli events have no delivery).
      mq = endpointId ? mq.where('inbound_endpoint_id', '=', endpointId) : mq.where('inbound_endpoint_id', 'is not', null);
    } else {
      mq = mq.where('inbound_endpoint_id', 'is', null);
      if (endpointId) mq = mq.where('id', 'in', this.db.selectFrom('deliveries').select('message_id').where('endpoint_id', '=', endpointId).where('created_at', '>=', since));
    }
    let rq = this.db.selectFrom('inbound_rejections').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('created_at', '>=', since);
    if (endpointId) rq = rq.where('inbound_endpoint_id', '=', endpointId);
    const [byStatus, att, msgs, rej] = await Promise.all([
      dq.execute(),
      aq.executeTakeFirstOrThrow(),
      mq.executeTakeFirstOrThrow(),
      scope.direction === 'inbound' ? rq.executeTakeFirstOrThrow() : { n: 0 },
    ]);
    const count = (s: string[]) => byStatus.filter((r) => s.includes(r.status)).reduce((a, r) => a + Number(r.n), 0);
    return {
      totalMessages: Number(msgs.n),
      deliveries: count(['queued', 'delivering', 'succeeded', 'pending_retry', 'failed', 'paused', 'cancelled']),
      succeeded: count(['succeeded']),
      failed: count(['failed']),
      pending: count(['queued', 'delivering', 'pending_retry', 'paused']),
      attempts: Number(att.n),
      retries: Number(att.retries ?? 0),
      avgLatencyMs: att.avg === null ? null : Math.round(Number(att.avg)),
      rejected: Number(rej.n),
    };
  }

  /**
   * The backlog at `now`. One query per status set, each written so that it reads one partial
   * index (deliveries_due, deliveries_leased, deliveries_parked) and never the finished rows.
   */
  async backlog(now: number): Promise<Backlog> {
    const [waiting, delivering, parked] = await Promise.all([
      this.db
        .selectFrom('deliveries')
        .select([
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.sum<number>(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).as('due'),
          (eb) => eb.fn.min<number>('next_attempt_at').as('oldest'),
        ])
        .where(sql<boolean>`status in ('queued', 'pending_retry')`)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(sql<boolean>`status = 'delivering'`)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('deliveries')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where(sql<boolean>`status in ('paused', 'failed')`)
        .groupBy('status')
        .execute(),
    ]);
    const due = Number(waiting.due ?? 0);
    const oldest = waiting.oldest === null ? null : Number(waiting.oldest);
    const parkedCount = (status: string) => Number(parked.find((r) => r.status === status)?.n ?? 0);
    return {
      due,
      scheduled: Number(waiting.n) - due,
      delivering: Number(delivering.n),
      paused: parkedCount('paused'),
      failed: parkedCount('failed'),
      oldestDueAt: due > 0 && oldest !== null && oldest <= now ? oldest : null,
    };
  }

  /** Attempts per time bucket by outcome; empty buckets are included so charts have no gaps. */
  async timeseries(projectId: string, since: number, until: number, bucketMs: number, scope: MetricsScope): Promise<TimeBucket[]> {
    // Literal, not a bound parameter: better-sqlite3 binds JS numbers as REAL, which would turn this
    // into float division. bucketMs comes from a fixed table, never from the client.
    const bucket = sql<number>`(started_at / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
    let q = this.db
      .selectFrom('attempts')
      .select([
        bucket.as('bucket'),
        (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
        (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'failed').then(1).else(0).end()).as('failed'),
        (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'retry').then(1).else(0).end()).as('retrying'),
        (eb) => eb.fn.countAll<number>().as('total'),
        (eb) => eb.fn.avg<number>('duration_ms').as('avg'),
      ])
      .where('project_id', '=', projectId)
      .where('started_at', '>=', since)
      .groupBy(bucket)
      .orderBy(bucket);
    q = q.where('endpoint_id', 'in', this.endpointsOf(projectId, scope));
    const rows = new Map((await q.execute()).map((r) => [Number(r.bucket), r]));
    const out: TimeBucket[] = [];
    for (let t = Math.floor(since / bucketMs) * bucketMs; t <= until; t += bucketMs) {
      const r = rows.get(t);
      out.push({
        timestamp: t,
        succeeded: Number(r?.succeeded ?? 0),
        failed: Number(r?.failed ?? 0),
        retrying: Number(r?.retrying ?? 0),
        total: Number(r?.total ?? 0),
        avgLatencyMs: r?.avg === null || r?.avg === undefined ? null : Math.round(Number(r.avg)),
      });
    }
    return out;
  }
}
