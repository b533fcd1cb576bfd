/**
 * Retention: what the background job (ops/retention.ts) removes, one small batch per transaction,
 * and the removal of one message's payload at once (DELETE /v1/messages/{id}).
 *
 * Only finished messages are touched: every delivery succeeded, failed or cancelled (a message
 * without deliveries is finished). Held events of pull and cli endpoints are left to their own
 * purge (InboundEventRepository.purgeExpired). Ages count from the message's created_at.
 *
 * Replay is the one way a finished message becomes unfinished again, and the message row settles
 * the race: a batch locks its messages (SKIP LOCKED on PostgreSQL, so it never waits for anyone)
 * and checks "all finished" again in a later statement, which sees a replay committed meanwhile;
 * a replay locks its message (lockMessageForReplay) before it looks at the payload, so it waits
 * for a batch holding that message and then sees the payload gone.
 */
import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { DeliveryStatus, ProjectSettings } from '../core/model.js';
import type { StoreDialect } from './dialect.js';
import { promoteFifoHead } from './fifo.js';
import { json } from './rows.js';
import type { Database } from './schema.js';

/** Most ids in one IN list: well under SQLite's and PostgreSQL's parameter limits. */
const IN_LIST = 1000;

/** One batch: how many rows it picked (a short batch ends the pass) and how many it changed. */
export interface BatchResult {
  picked: number;
  done: number;
  /** Where the next batch of the same pass starts (messages only). */
  next?: RetentionCursor;
}

/** The last message a batch looked at, in (created_at, id) order. */
export interface RetentionCursor {
  createdAt: number;
  id: string;
}

/** What DELETE /v1/messages/{id} did. */
export interface MessageDeletion {
  /** Deliveries it cancelled, with the status each had. */
  cancelled: { id: string; endpointId: string; status: DeliveryStatus }[];
}

type MessageScope = ExpressionBuilder<Database & { m: Database['messages'] }, 'm'>;

/** A delivery of message `m` that may still send it. */
const unfinishedDelivery = (eb: MessageScope) =>
  eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.message_id', '=', 'm.id').where(sql<boolean>`d.status in ('queued', 'delivering', 'pending_retry', 'paused')`));

/** Outbound messages and forwarded inbound events; held ones have their own retention. */
const notHeld = (eb: MessageScope) =>
  eb.or([
    eb('m.inbound_endpoint_id', 'is', null),
    eb.exists(eb.selectFrom('inbound_endpoints as i').select('i.id').whereRef('i.id', '=', 'm.inbound_endpoint_id').where('i.mode', '=', 'forward')),
  ]);

async function inChunks(ids: string[], fn: (chunk: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += IN_LIST) await fn(ids.slice(i, i + IN_LIST));
}

/**
 * Empties the payloads of these messages: the body, an inbound event's headers (they can hold
 * provider data) and their attempts' response excerpts and request headers (a forwarded event's
 * carry the provider's). Deliveries and attempts stay listable.
 */
async function clearPayloads(trx: Kysely<Database>, ids: string[], now: number): Promise<void> {
  await inChunks(ids, async (chunk) => {
    await trx.updateTable('messages').set({ payload: '', headers: null, payload_removed_at: now }).where('id', 'in', chunk).execute();
    await trx
      .updateTable('attempts')
      .set({ response_body: null, request_headers: null })
      .where('delivery_id', 'in', (eb) => eb.selectFrom('deliveries').select('id').where('message_id', 'in', chunk))
      .where((eb) => eb.or([eb('response_body', 'is not', null), eb('request_headers', 'is not', null)]))
      .execute();
  });
}

/**
 * For a replay, in its transaction: locks the message of delivery `deliveryId` against retention
 * and DELETE (a shared lock: replays of its other deliveries go on) and tells whether its payload
 * is still there; 'gone' when retention deleted the message meanwhile.
 */
export async function lockMessageForReplay(trx: Kysely<Database>, dialect: StoreDialect, deliveryId: string): Promise<'kept' | 'removed' | 'gone'> {
  const q = trx
    .selectFrom('messages as m')
    .select('m.payload_removed_at')
    .where('m.id', '=', (eb) => eb.selectFrom('deliveries').select('message_id').where('id', '=', deliveryId));
  const m = await dialect.lockRows(q, 'm', 'share').executeTakeFirst();
  if (!m) return 'gone';
  return m.payload_removed_at === null ? 'kept' : 'removed';
}

export class RetentionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  /** Every project with its settings (each has its own windows). */
  async projects(): Promise<{ id: string; settings: ProjectSettings }[]> {
    const rows = await this.db.selectFrom('projects').select(['id', 'settings']).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, settings: json<ProjectSettings>(r.settings) ?? {} }));
  }

  /** Removes the payloads of up to `limit` finished messages of the project created before `cutoff`. */
  removePayloads(projectId: string, cutoff: number, limit: number, now: number, after?: RetentionCursor): Promise<BatchResult> {
    // Relaxed: a removal lost to a power cut is simply made again by the next run.
    return this.dialect.transaction(this.db, 'relaxed', async (trx) => {
      const { examined, next } = await this.pickOld(trx, projectId, cutoff, limit, true, after);
      const ids = await this.stillFinished(trx, examined);
      await clearPayloads(trx, ids, now);
      return { picked: examined.length, done: ids.length, next };
    });
  }

  /** Deletes up to `limit` finished messages of the project created before `cutoff`, with their deliveries and attempts. */
  deleteRecords(projectId: string, cutoff: number, limit: number, after?: RetentionCursor): Promise<BatchResult> {
    return this.dialect.transaction(this.db, 'relaxed', async (trx) => {
      const { examined, next } = await this.pickOld(trx, projectId, cutoff, limit, false, after);
      const ids = await this.stillFinished(trx, examined);
      await inChunks(ids, async (chunk) => {
        const theirDeliveries = trx.selectFrom('deliveries').select('id').where('message_id', 'in', chunk);
        await trx.deleteFrom('attempts').where('delivery_id', 'in', theirDeliveries).execute();
        await trx.deleteFrom('deliveries').where('message_id', 'in', chunk).execute();
        await trx.deleteFrom('messages').where('id', 'in', chunk).execute();
      });
      return { picked: examined.length, done: ids.length, next };
    });
  }

  /** Deletes up to `limit` of the project's inbound rejections created before `cutoff`. */
  deleteRejections(projectId: string, cutoff: number, limit: number): Promise<BatchResult> {
    return this.dialect.transaction(this.db, 'relaxed', async (trx) => {
      const q = trx.selectFrom('inbound_rejections as r').select('r.id').where('r.project_id', '=', projectId).where('r.created_at', '<', cutoff).orderBy('r.created_at').limit(limit);
      const ids = (await this.dialect.lockRows(q, 'r', 'skip').execute()).map((r) => r.id);
      await inChunks(ids, (chunk) => trx.deleteFrom('inbound_rejections').where('id', 'in', chunk).execute());
      return { picked: ids.length, done: ids.length };
    });
  }

  /** Deletes up to `limit` export rows past their expiry (every project's). */
  deleteExpiredExports(now: number, limit: number): Promise<BatchResult> {
    return this.dialect.transaction(this.db, 'relaxed', async (trx) => {
      const q = trx.selectFrom('exports as x').select('x.id').where('x.expires_at', '<', now).orderBy('x.expires_at').limit(limit);
      const ids = (await this.dialect.lockRows(q, 'x', 'skip').execute()).map((r) => r.id);
      await inChunks(ids, (chunk) => trx.deleteFrom('exports').where('id', 'in', chunk).execute());
      return { picked: ids.length, done: ids.length };
    });
  }

  /**
   * DELETE /v1/messages/{id}: cancels the deliveries that could still send the message (an
   * attempt already on the wire finishes, and its record leaves the delivery cancelled) and
   * removes its payload, in one durable transaction. Null when the project has no such message.
   */
  deleteMessagePayload(projectId: string, messageId: string, now: number): Promise<MessageDeletion | null> {
    return this.dialect.transaction(this.db, 'durable', async (trx) => {
      const mq = trx.selectFrom('messages as m').select(['m.id', 'm.payload_removed_at']).where('m.id', '=', messageId).where('m.project_id', '=', projectId).where('m.inbound_endpoint_id', 'is', null);
      const message = await this.dialect.lockRows(mq, 'm', 'wait').executeTakeFirst();
      if (!message) return null;
      // Locked, so a claim in progress finishes first and its delivery is seen as 'delivering'.
      const dq = trx
        .selectFrom('deliveries as d')
        .select(['d.id', 'd.endpoint_id', 'd.status'])
        .where('d.message_id', '=', messageId)
        .where(sql<boolean>`d.status in ('queued', 'delivering', 'pending_retry', 'paused')`);
      const open = await this.dialect.lockRows(dq, 'd', 'wait').execute();
      if (open.length > 0) {
        await trx
          .updateTable('deliveries')
          .set({ status: 'cancelled', next_attempt_at: null, lease_expires_at: null, last_error: 'message deleted', updated_at: now })
          .where('id', 'in', open.map((d) => d.id))
          .execute();
        for (const endpointId of new Set(open.map((d) => d.endpoint_id))) await promoteFifoHead(trx, endpointId, now);
      }
      if (message.payload_removed_at === null) await clearPayloads(trx, [messageId], now);
      return { cancelled: open.map((d) => ({ id: d.id, endpointId: d.endpoint_id, status: d.status as DeliveryStatus })) };
    });
  }

  /**
   * The next `limit` messages of the project created before `cutoff`, after `after` in
   * (created_at, id) order, locked (rows others hold are skipped). Finished or not: which are is
   * for stillFinished to say. Each batch looks at `limit` rows and the pass moves on from the last
   * of them, so old messages that wait (a paused endpoint's) are read once per pass, in small
   * steps, rather than again by every batch.
   */
  private async pickOld(
    trx: Transaction<Database>,
    projectId: string,
    cutoff: number,
    limit: number,
    withPayload: boolean,
    after: RetentionCursor | undefined,
  ): Promise<{ examined: string[]; next: RetentionCursor | undefined }> {
    let q = trx.selectFrom('messages as m').select(['m.id', 'm.created_at']).where('m.project_id', '=', projectId).where('m.created_at', '<', cutoff);
    if (withPayload) q = q.where('m.payload_removed_at', 'is', null);
    if (after) q = q.where((eb) => eb.or([eb('m.created_at', '>', after.createdAt), eb.and([eb('m.created_at', '=', after.createdAt), eb('m.id', '>', after.id)])]));
    q = q.where(notHeld).orderBy('m.created_at').orderBy('m.id').limit(limit);
    const rows = await this.dialect.lockRows(q, 'm', 'skip').execute();
    const last = rows.at(-1);
    return { examined: rows.map((r) => r.id), next: last ? { createdAt: Number(last.created_at), id: last.id } : after };
  }

  /**
   * The picked messages that are still finished. A separate statement: on PostgreSQL it sees a
   * replay that committed after the pick read its snapshot, and the row locks keep later ones out.
   */
  private async stillFinished(trx: Transaction<Database>, ids: string[]): Promise<string[]> {
    const out: string[] = [];
    await inChunks(ids, async (chunk) => {
      const rows = await trx
        .selectFrom('messages as m')
        .select('m.id')
        .where('m.id', 'in', chunk)
        .where((eb) => eb.not(unfinishedDelivery(eb)))
        .execute();
      out.push(...rows.map((r) => r.id));
    });
    return out;
  }
}
