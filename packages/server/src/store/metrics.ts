/** Aggregates over attempts and deliveries for GET /v1/metrics and /v1/metrics/timeseries. */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface MetricsSummary {
  totalMessages: number;
  deliveries: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  retries: number;
  avgLatencyMs: number | null;
}

export interface TimeBucket {
  timestamp: number;
  succeeded: number;
  failed: number;
  retrying: number;
  total: number;
  avgLatencyMs: number | null;
}

export class MetricsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async summary(projectId: string, since: number, endpointId?: string): Promise<MetricsSummary> {
    let dq = this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .where('created_at', '>=', since)
      .groupBy('status');
    if (endpointId) dq = dq.where('endpoint_id', '=', endpointId);
    let aq = this.db
      .selectFrom('attempts')
      .select([
        (eb) => eb.fn.countAll<number>().as('n'),
        (eb) => eb.fn.sum<number>(eb.case().when('outcome', '=', 'retry').then(1).else(0).end()).as('retries'),
        (eb) => eb.fn.avg<number>('duration_ms').as('avg'),
      ])
      .where('project_id', '=', projectId)
      .where('started_at', '>=', since);
    if (endpointId) aq = aq.where('endpoint_id', '=', endpointId);
    let mq = this.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('created_at', '>=', since);
    if (endpointId) mq = mq.where('id', 'in', this.db.selectFrom('deliveries').select('message_id').where('endpoint_id', '=', endpointId).where('created_at', '>=', since));
    const [byStatus, att, msgs] = await Promise.all([dq.execute(), aq.executeTakeFirstOrThrow(), mq.executeTakeFirstOrThrow()]);
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
    };
  }

  /** Attempts per time bucket by outcome; empty buckets are included so charts have no gaps. */
  async timeseries(projectId: string, since: number, until: number, bucketMs: number, endpointId?: string): Promise<TimeBucket[]> {
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
    if (endpointId) q = q.where('endpoint_id', '=', endpointId);
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
