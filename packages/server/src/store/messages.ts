/** Messages and their fan-out into deliveries. */
import type { Insertable, Kysely, Transaction } from 'kysely';
import { endpointMatches } from '../core/endpoint-rules.js';
import { newId } from '../core/ids.js';
import type { Delivery, Message, Page } from '../core/model.js';
import { fifoLineWaiting } from './fifo.js';
import type { GroupCommitter } from './group-commit.js';
import { hotQuery } from './hot-query.js';
import { deliveryFromRow, endpointFromRow, jsonOrNull, messageFromRow, newDeliveryRow, toPage } from './rows.js';
import type { Database, DeliveriesTable, MessagesTable } from './schema.js';

// The statements of a publish to one endpoint, the common case (hot-query.ts).
const outboundEndpointById = hotQuery((db, p: { projectId: string; id: string }) =>
  db.selectFrom('endpoints').selectAll().where('project_id', '=', p.projectId).where('deleted_at', 'is', null).where('direction', '=', 'outbound').where('id', '=', p.id),
);
export const insertMessage = hotQuery((db, p: Insertable<MessagesTable>) => db.insertInto('messages').values({ ...p }));
const insertDelivery = hotQuery((db, p: Insertable<DeliveriesTable>) => db.insertInto('deliveries').values({ ...p }));

const CHUNK = 500;

/** What a delivery row needs of its endpoint. */
export interface FanOutTarget {
  id: string;
  consumerId: string | null;
  status: string;
  ordering: string;
}

/**
 * One delivery per target, due now: `queued` for an active endpoint, `paused` for a paused one;
 * a fifo endpoint with a line already gets it behind the line. Shared by publish and the
 * operational events (store/operational-events.ts).
 */
export async function insertFanOut(
  trx: Kysely<Database>,
  m: { projectId: string; messageId: string; eventType: string },
  targets: FanOutTarget[],
  now: number,
): Promise<DeliveriesTable[]> {
  const busyFifo = new Set<string>();
  for (const e of targets) if (e.ordering === 'fifo' && (await fifoLineWaiting(trx, e.id))) busyFifo.add(e.id);
  const deliveryRows = targets.map((e) =>
    newDeliveryRow(
      { ...m, endpointId: e.id, consumerId: e.consumerId, status: e.status === 'active' ? 'queued' : 'paused', nextAttemptAt: busyFifo.has(e.id) ? null : now },
      now,
    ),
  );
  if (deliveryRows.length === 1) await insertDelivery(trx, deliveryRows[0]);
  else {
    for (let i = 0; i < deliveryRows.length; i += CHUNK) {
      await trx.insertInto('deliveries').values(deliveryRows.slice(i, i + CHUNK)).execute();
    }
  }
  return deliveryRows;
}

export interface PublishRequest {
  eventType: string;
  /** JSON text: the exact bytes to sign and send. */
  payload: string;
  consumerId: string | null;
  endpointId: string | null;
  broadcast: boolean;
  channels: string[] | null;
  idempotencyKey: string | null;
  /** Hash of the request's JSON value, to tell a retry from a conflicting reuse of a key. */
  requestHash: string;
  /** W3C traceparent of the span accepting it (tracing on): its attempts' spans join that trace. */
  traceParent?: string | null;
  /** The id of the API request creating it. */
  requestId?: string | null;
}

export type PublishResult =
  | { kind: 'created' | 'existing'; message: Message; deliveries: Delivery[] }
  | { kind: 'idempotency_conflict' }
  | { kind: 'endpoint_not_found' }
  | { kind: 'endpoint_disabled' };


export class MessageRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly committer: GroupCommitter,
  ) {}

  /**
   * Stores a message and its deliveries durably (group commit) and returns once they are on disk.
   * Outcomes other than success are returned, not thrown, so they never roll back a shared batch.
   */
  publish(projectId: string, req: PublishRequest): Promise<PublishResult> {
    return this.committer.run((trx) => this.publishIn(trx, projectId, req));
  }

  private async publishIn(trx: Transaction<Database>, projectId: string, req: PublishRequest): Promise<PublishResult> {
    if (req.idempotencyKey !== null) {
      const prior = await trx
        .selectFrom('messages')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('idempotency_key', '=', req.idempotencyKey)
        .executeTakeFirst();
      if (prior) {
        if (prior.request_hash !== req.requestHash) return { kind: 'idempotency_conflict' };
        const rows = await trx.selectFrom('deliveries').selectAll().where('message_id', '=', prior.id).orderBy('id').execute();
        return { kind: 'existing', message: messageFromRow(prior), deliveries: rows.map(deliveryFromRow) };
      }
    }

    let rows;
    if (req.endpointId !== null) rows = await outboundEndpointById(trx, { projectId, id: req.endpointId });
    else {
      let q = trx.selectFrom('endpoints').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).where('direction', '=', 'outbound');
      if (req.consumerId !== null) q = q.where('consumer_id', '=', req.consumerId);
      else if (!req.broadcast) q = q.where('consumer_id', 'is', null);
      rows = await q.execute();
    }
    // Fan-out looks at status and filters only: the headers stay sealed (the worker opens them).
    let targets = rows.map((r) => endpointFromRow(r, () => ({})));
    if (req.endpointId !== null) {
      if (targets.length === 0) return { kind: 'endpoint_not_found' };
      if (targets[0].status === 'disabled') return { kind: 'endpoint_disabled' };
    } else {
      targets = targets.filter((e) => e.status !== 'disabled' && endpointMatches(e, req.eventType, req.channels));
    }

    const now = Date.now();
    const messageRow = {
      id: newId('msg', now),
      project_id: projectId,
      event_type: req.eventType,
      consumer_id: req.consumerId,
      endpoint_id: req.endpointId,
      broadcast: req.broadcast ? 1 : 0,
      channels: jsonOrNull(req.channels),
      payload: req.payload,
      idempotency_key: req.idempotencyKey,
      request_hash: req.requestHash,
      created_at: now,
      inbound_endpoint_id: null,
      headers: null,
      body_encoding: null,
      source_ip: null,
      dedupe_key: null,
      acked_at: null,
      payload_removed_at: null,
      request_id: req.requestId ?? null,
      trace_parent: req.traceParent ?? null,
    };
    await insertMessage(trx, messageRow);
    const deliveryRows = await insertFanOut(trx, { projectId, messageId: messageRow.id, eventType: req.eventType }, targets, now);
    return { kind: 'created', message: messageFromRow(messageRow), deliveries: deliveryRows.map(deliveryFromRow) };
  }

  async get(projectId: string, id: string): Promise<Message | null> {
    const r = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .where('inbound_endpoint_id', 'is', null)
      .executeTakeFirst();
    return r ? messageFromRow(r) : null;
  }

  async list(projectId: string, filter: { eventType?: string; consumerId?: string }, limit: number, cursor?: string): Promise<Page<Message>> {
    let q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('inbound_endpoint_id', 'is', null)
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (filter.eventType !== undefined) q = q.where('event_type', '=', filter.eventType);
    if (filter.consumerId !== undefined) q = q.where('consumer_id', '=', filter.consumerId);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, messageFromRow);
  }
}
