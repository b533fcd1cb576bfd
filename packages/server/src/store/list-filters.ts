/**
 * The filters of the delivery and inbound-event lists as query conditions, in one place: the list
 * routes page through them newest first, exports walk the same rows in the same order (exports.ts).
 */
import type { SelectQueryBuilder } from 'kysely';
import type { DeliveryStatus } from '../core/model.js';
import type { Database } from './schema.js';

export interface DeliveryFilter {
  status?: DeliveryStatus;
  endpointId?: string;
  messageId?: string;
  consumerId?: string;
  /** Deliveries to endpoints (not deleted) that belong to this consumer now: a portal session's. */
  endpointConsumerId?: string;
  eventType?: string;
  /** created_at >= since (ms) */
  since?: number;
  /** created_at < until (ms) */
  until?: number;
}

export interface InboundEventFilter {
  inboundEndpointId?: string;
}

/** The project's deliveries that match `f`. */
export function whereDelivery<O>(q: SelectQueryBuilder<Database, 'deliveries', O>, projectId: string, f: DeliveryFilter): SelectQueryBuilder<Database, 'deliveries', O> {
  q = q.where('project_id', '=', projectId);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.endpointId !== undefined) q = q.where('endpoint_id', '=', f.endpointId);
  if (f.messageId !== undefined) q = q.where('message_id', '=', f.messageId);
  if (f.consumerId !== undefined) q = q.where('consumer_id', '=', f.consumerId);
  const endpointConsumer = f.endpointConsumerId;
  if (endpointConsumer !== undefined) {
    q = q.where((eb) =>
      eb('endpoint_id', 'in', eb.selectFrom('endpoints').select('endpoints.id').where('endpoints.project_id', '=', projectId).where('endpoints.consumer_id', '=', endpointConsumer).where('endpoints.deleted_at', 'is', null)),
    );
  }
  if (f.eventType !== undefined) q = q.where('event_type', '=', f.eventType);
  if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('created_at', '<', f.until);
  return q;
}

/** The project's inbound events (messages rows of an inbound endpoint) that match `f`. */
export function whereInboundEvent<O>(q: SelectQueryBuilder<Database, 'messages', O>, projectId: string, f: InboundEventFilter): SelectQueryBuilder<Database, 'messages', O> {
  q = q.where('project_id', '=', projectId);
  return f.inboundEndpointId !== undefined ? q.where('inbound_endpoint_id', '=', f.inboundEndpointId) : q.where('inbound_endpoint_id', 'is not', null);
}
