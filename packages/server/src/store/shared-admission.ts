/**
 * Per-endpoint limits that hold across every worker process sharing a PostgreSQL store: at most
 * `endpointConcurrency` deliveries of an endpoint leased at once, and `rate_limit_rps` through a
 * bucket row all workers draw from. Runs inside the claim transaction after taking an advisory
 * lock per endpoint (in id order, so claimers never deadlock), which makes concurrent claimers of
 * the same endpoint take turns for the few milliseconds a claim lasts.
 */
import { sql, type Transaction } from 'kysely';
import { refill, takeToken, type Bucket } from '../core/token-bucket.js';
import type { Database } from './schema.js';

export class SharedAdmission {
  private readonly buckets = new Map<string, Bucket>();
  private readonly touched = new Set<string>();
  /** Endpoints refused for lack of tokens, with when the next token comes. */
  readonly limitedUntil = new Map<string, number>();

  private constructor(
    private readonly leased: Map<string, number>,
    buckets: Map<string, Bucket>,
    private readonly cap: number,
    private readonly now: number,
  ) {
    for (const [id, b] of buckets) this.buckets.set(id, b);
  }

  static async load(trx: Transaction<Database>, endpointIds: string[], cap: number, now: number): Promise<SharedAdmission> {
    const ids = [...new Set(endpointIds)].sort();
    // One round trip for all locks. PostgreSQL evaluates a volatile function in the select list
    // after the sort, so the locks are taken in id order.
    const keys = ids.map((id) => `hookbridge.endpoint:${id}`);
    await sql`select pg_advisory_xact_lock(hashtext(k)) from unnest(${keys}::text[]) as t(k) order by k`.execute(trx);
    const leasedRows = await trx
      .selectFrom('deliveries')
      .select(['endpoint_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('endpoint_id', 'in', ids)
      .where(sql<boolean>`status = 'delivering'`)
      .groupBy('endpoint_id')
      .execute();
    const bucketRows = await trx.selectFrom('endpoint_buckets').selectAll().where('endpoint_id', 'in', ids).execute();
    return new SharedAdmission(
      new Map(leasedRows.map((r) => [r.endpoint_id, Number(r.n)])),
      new Map(bucketRows.map((r) => [r.endpoint_id, { tokens: Number(r.tokens), at: Number(r.refilled_at) }])),
      cap,
      now,
    );
  }

  /** Admits one more delivery of the endpoint (counting it) if its limits allow. */
  admit(endpointId: string, ordering: string, rps: number | null): boolean {
    const cap = ordering === 'fifo' ? 1 : this.cap;
    if ((this.leased.get(endpointId) ?? 0) >= cap) return false;
    if (rps !== null && rps > 0) {
      const b = refill(this.buckets.get(endpointId), rps, this.now);
      this.buckets.set(endpointId, b);
      this.touched.add(endpointId);
      const waitUntil = takeToken(b, rps);
      if (waitUntil !== null) {
        this.limitedUntil.set(endpointId, waitUntil);
        return false;
      }
    }
    this.leased.set(endpointId, (this.leased.get(endpointId) ?? 0) + 1);
    return true;
  }

  /** Undoes an admit the worker turned down after all. */
  giveBack(endpointId: string, rps: number | null): void {
    this.leased.set(endpointId, (this.leased.get(endpointId) ?? 1) - 1);
    const b = this.buckets.get(endpointId);
    if (rps !== null && rps > 0 && b) b.tokens += 1;
  }

  async save(trx: Transaction<Database>): Promise<void> {
    for (const id of this.touched) {
      const b = this.buckets.get(id)!;
      await trx
        .insertInto('endpoint_buckets')
        .values({ endpoint_id: id, tokens: b.tokens, refilled_at: b.at })
        .onConflict((oc) => oc.column('endpoint_id').doUpdateSet({ tokens: b.tokens, refilled_at: b.at }))
        .execute();
    }
  }
}
