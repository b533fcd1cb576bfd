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

/** Deliveries not finished (and failed ones), of the store or of one project, by where they stand. */
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

/** One endpoint's attempts over a window (GET /v1/metrics/endpoints). */
export interface EndpointStats {
  endpointId: string;
  url: string;
  status: string;
  attempts: number;
  succeeded: number;
  /** Attempts that did not succeed (to be retried or failed for good). */
  failed: number;
  avgLatencyMs: number | null;
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
   * The backlog at `now`, store-wide (the Prometheus gauges) or of one project's outbound
   * endpoints (GET /v1/metrics/backlog). One query per status set, each written so that it reads
   * one partial index (deliveries_due, deliveries_leased, deliveries_parked) and never the
   * finished rows; with a project, the (endpoint_id, status) index of its endpoints.
   */
  async backlog(now: number, projectId?: string): Promise<Backlog> {
    // By endpoint, not by deliveries.project_id: that index would read every finished delivery of
    // the project, and the endpoints also say the direction.
    const deliveries = () => {
      const q = this.db.selectFrom('deliveries');
      return projectId === undefined ? q : q.where('endpoint_id', 'in', this.endpointsOf(projectId, { direction: 'outbound' }));
    };
    const [waiting, delivering, parked] = await Promise.all([
      deliveries()
        .select([
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.sum<number>(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).as('due'),
          (eb) => eb.fn.min<number>('next_attempt_at').as('oldest'),
        ])
        .where(sql<boolean>`status in ('queued', 'pending_retry')`)
        .executeTakeFirstOrThrow(),
      deliveries()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(sql<boolean>`status = 'delivering'`)
        .executeTakeFirstOrThrow(),
      // Sums, not GROUP BY status: grouping makes SQLite read the store-wide status index even
      // for one project.
      deliveries()
        .select([
          (eb) => eb.fn.sum<number>(eb.case().when('status', '=', 'paused').then(1).else(0).end()).as('paused'),
          (eb) => eb.fn.sum<number>(eb.case().when('status', '=', 'failed').then(1).else(0).end()).as('failed'),
        ])
        .where(sql<boolean>`status in ('paused', 'failed')`)
        .executeTakeFirstOrThrow(),
    ]);
    const due = Number(waiting.due ?? 0);
    const oldest = waiting.oldest === null ? null : Number(waiting.oldest);
    return {
      due,
      scheduled: Number(waiting.n) - due,
      delivering: Number(delivering.n),
      paused: Number(parked.paused ?? 0),
      failed: Number(parked.failed ?? 0),
      oldestDueAt: due > 0 && oldest !== null && oldest <= now ? oldest : null,
    };
  }

  /**
   * The project's outbound endpoints with their attempts since `since`, most failed attempts first
   * (then most attempts); endpoints without attempts come last, with zeros. One grouped query:
   * the attempts are counted by the (project_id, started_at) index first, then joined by endpoint,
   * as attempts have no index by endpoint.
   */
  async endpointStats(projectId: string, since: number, limit: number): Promise<EndpointStats[]> {
    const rows = await this.db
      .selectFrom('endpoints as e')
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('attempts')
            .select([
              'endpoint_id',
              (eb) => eb.fn.countAll<number>().as('attempts'),
              (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
              (eb) => eb.fn.avg<number>('duration_ms').as('avg'),
            ])
            .where('project_id', '=', projectId)
            .where('started_at', '>=', since)
            .groupBy('endpoint_id')
            .as('a'),
        (join) => join.onRef('a.endpoint_id', '=', 'e.id'),
      )
      .select(['e.id', 'e.url', 'e.status', 'a.attempts', 'a.succeeded', 'a.avg'])
      .where('e.project_id', '=', projectId)
      .where('e.direction', '=', 'outbound')
      .where('e.deleted_at', 'is', null)
      .orderBy(sql`coalesce(a.attempts - a.succeeded, 0)`, 'desc')
      .orderBy(sql`coalesce(a.attempts, 0)`, 'desc')
      .orderBy('e.id')
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const attempts = Number(r.attempts ?? 0);
      const succeeded = Number(r.succeeded ?? 0);
      return {
        endpointId: r.id,
        url: r.url,
        status: r.status,
        attempts,
        succeeded,
        failed: attempts - succeeded,
        avgLatencyMs: r.avg === null || r.avg === undefined ? null : Math.round(Number(r.avg)),
      };
    });
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
