/**
 * Publishes operational events (core/operational-events.ts) as messages of the project, inside
 * the transaction of the change they report: an event exists exactly when its change committed,
 * and is never lost to a crash in between. Delivery is the ordinary one (signing, retries, fifo,
 * the deliveries API).
 */
import type { Kysely } from 'kysely';
import { newId } from '../core/ids.js';
import { operationalPayload, receivesOperationalEvent, type EventSubject, type OperationalEventType } from '../core/operational-events.js';
import { insertFanOut, insertMessage } from './messages.js';
import { json } from './rows.js';
import type { Database } from './schema.js';

export interface OperationalEvent {
  projectId: string;
  type: OperationalEventType;
  /** The endpoint the event is about (for inbound.rejected, the inbound endpoint). */
  subject: EventSubject;
  data: Record<string, unknown>;
  now: number;
}

/**
 * Stores the event and one delivery per subscribed endpoint. Nothing is stored when no endpoint
 * subscribes. Returns the endpoints whose new deliveries are queued, for the caller to wake the
 * worker with once the transaction has committed.
 */
export async function emitOperationalEvent(trx: Kysely<Database>, ev: OperationalEvent): Promise<string[]> {
  let q = trx
    .selectFrom('endpoints')
    .select(['id', 'consumer_id', 'event_types', 'status', 'direction', 'ordering'])
    .where('project_id', '=', ev.projectId)
    .where('direction', '=', 'outbound')
    .where('deleted_at', 'is', null)
    .where('status', '!=', 'disabled')
    .where('id', '!=', ev.subject.endpointId)
    // Only the filters that name the type come back; receivesOperationalEvent has the last word
    // (LIKE ignores case on SQLite, and a listed "xhookbridge.…" would match too).
    .where('event_types', 'like', `%${JSON.stringify(ev.type)}%`);
  const consumerId = ev.subject.consumerId;
  q = consumerId === null ? q.where('consumer_id', 'is', null) : q.where((eb) => eb.or([eb('consumer_id', 'is', null), eb('consumer_id', '=', consumerId)]));
  const rows = await q.orderBy('id').execute();
  const targets = rows
    .filter((r) =>
      receivesOperationalEvent(
        { id: r.id, consumerId: r.consumer_id, eventTypes: json<string[]>(r.event_types), status: r.status, direction: r.direction, deleted: false },
        ev.type,
        ev.subject,
      ),
    )
    .map((r) => ({ id: r.id, consumerId: r.consumer_id, status: r.status, ordering: r.ordering }));
  if (targets.length === 0) return [];
  const messageId = newId('msg', ev.now);
  await insertMessage(trx, {
    id: messageId,
    project_id: ev.projectId,
    event_type: ev.type,
    // Published by Hookbridge to the subscribers, not to a consumer or endpoint of the user's.
    consumer_id: null,
    endpoint_id: null,
    broadcast: 0,
    channels: null,
    payload: operationalPayload(ev.type, ev.now, ev.data),
    idempotency_key: null,
    request_hash: '',
    created_at: ev.now,
  });
  const deliveries = await insertFanOut(trx, { projectId: ev.projectId, messageId, eventType: ev.type }, targets, ev.now);
  return deliveries.filter((d) => d.status === 'queued').map((d) => d.endpoint_id);
}
