/**
 * Inbound events (accepted ingest requests, stored as `messages` rows with their endpoint and
 * headers) and rejections. Accepting is durable and deduplicated; in forward mode the same
 * transaction queues the delivery that forwards the event.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { newId } from '../core/ids.js';
import { encodeBody } from '../core/ingest-rules.js';
import type { DeliveryStatus, InboundEndpoint, InboundEvent, InboundRejection, Page } from '../core/model.js';
import { fifoLineWaiting, insertAttempt } from './deliveries.js';
import type { GroupCommitter } from './group-commit.js';
import { whereInboundEvent, type InboundEventFilter } from './list-filters.js';
import type { StoreDialect } from './dialect.js';
import { deliveryFromRow, json, newDeliveryRow, toPage } from './rows.js';
import type { Database, DeliveriesTable, MessagesTable } from './schema.js';

export interface AcceptRequest {
  headers: Record<string, string>;
  body: Buffer;
  eventType: string | null;
  sourceIp: string | null;
  /** The provider's event id (or idempotency header); null = never a duplicate. */
  dedupeKey: string | null;
  dedupeWindowMs: number;
  /** The id of the ingest request that brought it. */
  requestId?: string | null;
}

export type AcceptResult = { kind: 'created' | 'duplicate'; id: string };

export interface RejectionInput {
  reason: string;
  statusCode: number;
  sourceIp: string | null;
  headers: Record<string, string>;
  bodyBytes: number;
}

function eventFromRow(r: Selectable<MessagesTable>, delivery: Selectable<DeliveriesTable> | null): InboundEvent {
  return {
    id: r.id,
    projectId: r.project_id,
    inboundEndpointId: r.inbound_endpoint_id!,
    eventType: r.event_type === '' ? null : r.event_type,
    headers: json<Record<string, string>>(r.headers) ?? {},
    body: r.payload,
    bodyEncoding: r.body_encoding === 'base64' ? 'base64' : null,
    sourceIp: r.source_ip,
    dedupeKey: r.dedupe_key,
    ackedAt: r.acked_at === null ? null : Number(r.acked_at),
    createdAt: Number(r.created_at),
    payloadRemovedAt: r.payload_removed_at === null ? null : Number(r.payload_removed_at),
    requestId: r.request_id,
    delivery: delivery ? deliveryFromRow(delivery) : null,
  };
}

/** What `hookbridge listen` got when it replayed an event to the developer's local server. */
export interface LocalResult {
  id: string;
  /** null: the local server could not be reached (then `error` says why). */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** The delivery of an inbound event: it forwards the event, or records a consumer's result. */
function inboundDeliveryRow(endpoint: InboundEndpoint, messageId: string, eventType: string, now: number, status: DeliveryStatus, nextAttemptAt: number | null) {
  return newDeliveryRow({ projectId: endpoint.projectId, messageId, endpointId: endpoint.id, consumerId: null, eventType, status, nextAttemptAt }, now);
}

export type { InboundEventFilter } from './list-filters.js';

export class InboundEventRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly committer: GroupCommitter,
  ) {}

  /** Stores an accepted request durably (group commit) unless it is a duplicate within the window. */
  accept(endpoint: InboundEndpoint, req: AcceptRequest): Promise<AcceptResult> {
    return this.committer.run((trx) => this.acceptIn(trx, endpoint, req));
  }

  private async acceptIn(trx: Transaction<Database>, endpoint: InboundEndpoint, req: AcceptRequest): Promise<AcceptResult> {
    const now = Date.now();
    if (req.dedupeKey !== null) {
      // Two API processes may receive the same retry at once; one at a time per key decides.
      await this.dialect.serialize(trx, `dedupe:${endpoint.id}:${req.dedupeKey}`);
      const prior = await trx
        .selectFrom('messages')
        .select('id')
        .where('inbound_endpoint_id', '=', endpoint.id)
        .where('dedupe_key', '=', req.dedupeKey)
        .where('created_at', '>=', now - req.dedupeWindowMs)
        .limit(1)
        .executeTakeFirst();
      if (prior) return { kind: 'duplicate', id: prior.id };
    }
    const id = newId('ie', now);
    const { payload, encoding } = encodeBody(req.body);
    await trx
      .insertInto('messages')
      .values({
        id,
        project_id: endpoint.projectId,
        event_type: req.eventType ?? '',
        consumer_id: null,
        endpoint_id: endpoint.id,
        broadcast: 0,
        channels: null,
        payload,
        idempotency_key: null,
        request_hash: '',
        created_at: now,
        inbound_endpoint_id: endpoint.id,
        headers: JSON.stringify(req.headers),
        body_encoding: encoding,
        source_ip: req.sourceIp,
        dedupe_key: req.dedupeKey,
        acked_at: null,
        payload_removed_at: null,
        request_id: req.requestId ?? null,
      })
      .execute();
    if (endpoint.mode === 'forward') {
      const busy = endpoint.ordering === 'fifo' && (await fifoLineWaiting(trx, endpoint.id));
      await trx
        .insertInto('deliveries')
        .values(inboundDeliveryRow(endpoint, id, req.eventType ?? '', now, endpoint.status === 'active' ? 'queued' : 'paused', busy ? null : now))
        .execute();
    }
    return { kind: 'created', id };
  }

  async recordRejection(endpoint: InboundEndpoint, r: RejectionInput): Promise<void> {
    const now = Date.now();
    // Relaxed: a rejection log lost to a power cut costs nothing acknowledged.
    await this.committer.run(
      (trx) =>
        trx
          .insertInto('inbound_rejections')
          .values({
            id: newId('rej', now),
            project_id: endpoint.projectId,
            inbound_endpoint_id: endpoint.id,
            reason: r.reason,
            status_code: r.statusCode,
            source_ip: r.sourceIp,
            headers: JSON.stringify(r.headers),
            body_bytes: r.bodyBytes,
            created_at: now,
          })
          .execute(),
      'relaxed',
    );
  }

  /** Events from their rows, each with its forwarding delivery (one query for all of them). */
  async withDeliveries(rows: Selectable<MessagesTable>[]): Promise<InboundEvent[]> {
    const ids = rows.map((r) => r.id);
    const deliveries = ids.length === 0 ? [] : await this.db.selectFrom('deliveries').selectAll().where('message_id', 'in', ids).execute();
    const byMessage = new Map(deliveries.map((d) => [d.message_id, d]));
    return rows.map((r) => eventFromRow(r, byMessage.get(r.id) ?? null));
  }

  async get(projectId: string, id: string): Promise<InboundEvent | null> {
    const r = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .where('inbound_endpoint_id', 'is not', null)
      .executeTakeFirst();
    return r ? (await this.withDeliveries([r]))[0] : null;
  }

  async list(projectId: string, f: InboundEventFilter, limit: number, cursor?: string): Promise<Page<InboundEvent>> {
    let q = whereInboundEvent(this.db.selectFrom('messages').selectAll(), projectId, f).orderBy('id', 'desc').limit(limit + 1);
    if (cursor) q = q.where('id', '<', cursor);
    const rows = await q.execute();
    const page = toPage(rows, limit, (r) => r);
    return { ...page, data: await this.withDeliveries(page.data) };
  }

  /** Pull and cli modes: unacknowledged events after `after`, oldest first, within retention. */
  async pending(endpointId: string, after: string | null, limit: number, retainedSince: number): Promise<Page<InboundEvent>> {
    let q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('inbound_endpoint_id', '=', endpointId)
      .where('acked_at', 'is', null)
      .where('created_at', '>=', retainedSince)
      .orderBy('id', 'asc')
      .limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return toPage(await q.execute(), limit, (r) => eventFromRow(r, null));
  }

  /** Marks events consumed; returns how many were newly acknowledged. */
  async ack(endpointId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const now = Date.now();
    const r = await this.committer.run((trx) =>
      trx.updateTable('messages').set({ acked_at: now }).where('inbound_endpoint_id', '=', endpointId).where('id', 'in', ids).where('acked_at', 'is', null).executeTakeFirst(),
    );
    return Number(r.numUpdatedRows);
  }

  /**
   * cli mode: acknowledges events with what the developer's local server answered, kept as an
   * attempt of a finished delivery so that the event's attempt log shows it as it shows a
   * forwarded event's. The delivery is never queued: it has no URL (replay refuses it).
   * Returns how many events were newly acknowledged.
   */
  async recordLocalResults(endpoint: InboundEndpoint, results: LocalResult[]): Promise<number> {
    if (results.length === 0) return 0;
    return this.committer.run(async (trx) => {
      const now = Date.now();
      let acked = 0;
      for (const r of results) {
        // Two acks of one event at once (two listen processes, API processes on PostgreSQL) must
        // not make two deliveries or two attempts with one number.
        await this.dialect.serialize(trx, `local-result:${r.id}`);
        const event = await trx.selectFrom('messages').select(['event_type', 'acked_at']).where('inbound_endpoint_id', '=', endpoint.id).where('id', '=', r.id).executeTakeFirst();
        if (!event) continue;
        if (event.acked_at === null) {
          await trx.updateTable('messages').set({ acked_at: now }).where('id', '=', r.id).execute();
          acked++;
        }
        let delivery = await trx.selectFrom('deliveries').select(['id', 'attempt_count']).where('message_id', '=', r.id).executeTakeFirst();
        if (!delivery) {
          const row = inboundDeliveryRow(endpoint, r.id, event.event_type, now, 'succeeded', null);
          await trx.insertInto('deliveries').values(row).execute();
          delivery = { id: row.id, attempt_count: 0 };
        }
        const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
        const error = r.error?.slice(0, 300) ?? null;
        const attemptNumber = delivery.attempt_count + 1;
        await trx
          .updateTable('deliveries')
          .set({ status: ok ? 'succeeded' : 'failed', attempt_count: attemptNumber, run_attempts: attemptNumber, last_status_code: r.statusCode, last_error: ok ? null : (error ?? `local server answered ${r.statusCode}`), last_attempt_at: now, updated_at: now })
          .where('id', '=', delivery.id)
          .execute();
        await insertAttempt(trx, {
          id: newId('att', now),
          delivery_id: delivery.id,
          project_id: endpoint.projectId,
          endpoint_id: endpoint.id,
          attempt_number: attemptNumber,
          started_at: now - r.latencyMs,
          duration_ms: r.latencyMs,
          status_code: r.statusCode,
          outcome: ok ? 'succeeded' : 'failed',
          error_class: r.statusCode === null ? 'connect_error' : null,
          error_message: error,
          response_body: null,
          response_truncated: 0,
          // The CLI sent that request, not Hookbridge: there is no Hookbridge request id for it.
          request_id: null,
          request_headers: null,
        });
      }
      return acked;
    });
  }

  /**
   * Deletes pull- and cli-mode events older than their endpoint's retention (acknowledged or
   * not); forwarded events stay with their deliveries. Returns how many were deleted.
   */
  async purgeExpired(now: number, defaultRetentionSeconds: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = trx
        .selectFrom('messages as m')
        .innerJoin('inbound_endpoints as i', 'i.id', 'm.inbound_endpoint_id')
        .select('m.id')
        .where('i.mode', '!=', 'forward')
        .where(sql<boolean>`m.created_at < cast(${now} as bigint) - cast(coalesce(i.retention_seconds, ${defaultRetentionSeconds}) as bigint) * 1000`);
      // cli events may carry the delivery and attempts that record the local results.
      const theirDeliveries = trx.selectFrom('deliveries').select('id').where('message_id', 'in', expired);
      await trx.deleteFrom('attempts').where('delivery_id', 'in', theirDeliveries).execute();
      await trx.deleteFrom('deliveries').where('message_id', 'in', expired).execute();
      const r = await trx.deleteFrom('messages').where('id', 'in', expired).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  async rejections(projectId: string, f: InboundEventFilter, limit: number, cursor?: string): Promise<Page<InboundRejection>> {
    let q = this.db.selectFrom('inbound_rejections').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(limit + 1);
    if (f.inboundEndpointId !== undefined) q = q.where('inbound_endpoint_id', '=', f.inboundEndpointId);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, (r) => ({
      id: r.id,
      inboundEndpointId: r.inbound_endpoint_id,
      reason: r.reason,
      statusCode: r.status_code,
      sourceIp: r.source_ip,
      headers: json<Record<string, string>>(r.headers) ?? {},
      bodyBytes: r.body_bytes,
      createdAt: Number(r.created_at),
    }));
  }
}
