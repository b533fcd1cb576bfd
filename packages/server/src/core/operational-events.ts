/**
 * Operational webhooks: events about Hookbridge itself (an endpoint disabled, a delivery given up
 * on…), published as ordinary messages of the project and delivered like any other. Pure: the
 * store decides when, these rules decide what is sent and to whom.
 */

export const OPERATIONAL_EVENT_TYPES = {
  endpointDisabled: 'hookbridge.endpoint.disabled',
  endpointEnabled: 'hookbridge.endpoint.enabled',
  deliveryFailed: 'hookbridge.delivery.failed',
  deliveryRecovered: 'hookbridge.delivery.recovered',
  inboundRejected: 'hookbridge.inbound.rejected',
} as const;

export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[keyof typeof OPERATIONAL_EVENT_TYPES];

/** The prefix is reserved: only Hookbridge publishes such types (POST /v1/messages refuses them). */
export const OPERATIONAL_PREFIX = 'hookbridge.';

export const isOperationalEventType = (eventType: string): boolean => eventType.startsWith(OPERATIONAL_PREFIX);

/** The endpoint an event is about: it never receives it, and its consumer bounds who may. */
export interface EventSubject {
  endpointId: string;
  consumerId: string | null;
}

export interface RecipientCandidate {
  id: string;
  consumerId: string | null;
  eventTypes: string[] | null;
  status: string;
  direction: string;
  deleted: boolean;
}

/**
 * Who receives an operational event: an outbound endpoint of the project, not disabled, that
 * lists the type itself (an endpoint without a filter takes every *published* type, but these
 * are not published by the user, so they must be asked for), is not the subject, and belongs to
 * the operator (no consumer) or to the subject's own consumer — one customer never learns about
 * another's endpoints. Channels do not apply. A paused endpoint receives it as a paused delivery.
 */
export function receivesOperationalEvent(e: RecipientCandidate, type: OperationalEventType, subject: EventSubject): boolean {
  if (e.direction !== 'outbound' || e.deleted || e.status === 'disabled') return false;
  if (e.id === subject.endpointId) return false;
  if (e.consumerId !== null && e.consumerId !== subject.consumerId) return false;
  return e.eventTypes?.includes(type) ?? false;
}

/**
 * Which delivery event an attempt record causes, if any. `runAttemptsBefore` counts the attempts of
 * this run before the one just recorded. Deliveries of operational events cause none: two failing
 * subscribers would otherwise tell each other about their failures forever.
 */
export function deliveryEventAfterAttempt(a: {
  status: string;
  runAttemptsBefore: number;
  eventType: string;
  direction: string;
}): OperationalEventType | null {
  if (a.direction === 'outbound' && isOperationalEventType(a.eventType)) return null;
  if (a.status === 'failed') return OPERATIONAL_EVENT_TYPES.deliveryFailed;
  if (a.status === 'succeeded' && a.runAttemptsBefore > 0) return OPERATIONAL_EVENT_TYPES.deliveryRecovered;
  return null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The message payload: the exact JSON text that is signed and sent. */
export function operationalPayload(type: OperationalEventType, now: number, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: iso(now), data });
}

export function endpointEventData(e: { id: string; consumerId: string | null; url: string }, reason: string): Record<string, unknown> {
  return { endpoint_id: e.id, consumer_id: e.consumerId, url: e.url, reason };
}

export interface DeliveryFacts {
  deliveryId: string;
  messageId: string;
  endpointId: string;
  consumerId: string | null;
  eventType: string;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

export function deliveryEventData(d: DeliveryFacts): Record<string, unknown> {
  return {
    delivery_id: d.deliveryId,
    message_id: d.messageId,
    endpoint_id: d.endpointId,
    consumer_id: d.consumerId,
    event_type: d.eventType,
    attempt_count: d.attemptCount,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
  };
}

export function inboundRejectedData(inboundEndpointId: string, since: number, until: number, byReason: Record<string, number>): Record<string, unknown> {
  const total = Object.values(byReason).reduce((a, b) => a + b, 0);
  return { inbound_endpoint_id: inboundEndpointId, since: iso(since), until: iso(until), total, by_reason: byReason };
}

/**
 * The next window of the inbound.rejected summary, or null when the current one has not lasted a
 * period yet. Windows end `lagMs` before now so that refusals still being committed (their time
 * is taken before the commit) fall in the next window instead of none.
 */
export function summaryWindow(since: number, now: number, periodMs: number, lagMs: number): { since: number; until: number } | null {
  const until = now - lagMs;
  return until - since >= periodMs ? { since, until } : null;
}
