/**
 * What a consumer portal session may reach. A portal token is a bearer credential of one
 * consumer: auth.ts lets it call only the routes marked `config: { portal: true }` (403 for the
 * rest), and those routes ask this module whether a row is the consumer's (404 when it is not,
 * as if it did not exist). An API key sees its whole project through the same calls.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../core/errors.js';
import type { Delivery } from '../core/model.js';
import type { DeliveryFilter } from '../store/list-filters.js';
import type { Store } from '../store/store.js';

export interface PortalScope {
  sessionId: string;
  consumerId: string;
  readOnly: boolean;
  expiresAt: number;
}

/** The consumer a request is limited to, or undefined for an API key. */
export const portalConsumer = (req: FastifyRequest): string | undefined => req.auth.portal?.consumerId;

/** Whether a row with this consumer_id may be seen by the request. */
export function visibleTo(req: FastifyRequest, consumerId: string | null): boolean {
  const own = portalConsumer(req);
  return own === undefined || consumerId === own;
}

/** The row, or a 404 when it is missing or belongs to another consumer. */
export function ownOrNotFound<T extends { consumerId: string | null }>(req: FastifyRequest, row: T | null | undefined, what: string): T {
  if (!row || !visibleTo(req, row.consumerId)) throw notFound(what);
  return row;
}

/**
 * The consumer_id a row is written with: as asked for an API key; a portal session's own for a
 * portal (another one asked for explicitly is refused, so that the caller learns it cannot have it).
 */
export function consumerFor(req: FastifyRequest, asked: string | null | undefined): string | null | undefined {
  const own = portalConsumer(req);
  if (own === undefined) return asked;
  if (asked !== undefined && asked !== null && asked !== own) throw new ApiError('forbidden', 'a portal session may act only for its own consumer_id');
  return own;
}

/**
 * A delivery is a portal consumer's when it was made for the consumer and its endpoint is still
 * the consumer's: an endpoint the operator moves to another consumer (or deletes) takes its
 * history out of the first consumer's reach, and the new owner never sees the old deliveries.
 */
export async function ownDelivery(req: FastifyRequest, store: Store, delivery: Delivery | null): Promise<Delivery> {
  const d = ownOrNotFound(req, delivery, 'delivery');
  if (req.auth.portal) ownOrNotFound(req, await store.endpoints.get(req.auth.projectId, d.endpointId), 'delivery');
  return d;
}

/** The delivery-list conditions of a portal session (see ownDelivery); none for an API key. */
export function portalDeliveryFilter(req: FastifyRequest): Pick<DeliveryFilter, 'consumerId' | 'endpointConsumerId'> {
  const own = portalConsumer(req);
  return own === undefined ? {} : { consumerId: own, endpointConsumerId: own };
}

/**
 * A list filter: the portal's consumer. An API key's filter passes through; a portal session that
 * filters by another consumer sees nothing (`null`: answer an empty page).
 */
export function listConsumer(req: FastifyRequest, asked: string | undefined): string | undefined | null {
  const own = portalConsumer(req);
  if (own === undefined) return asked;
  return asked === undefined || asked === own ? own : null;
}
