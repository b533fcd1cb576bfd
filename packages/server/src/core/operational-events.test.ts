import { describe, expect, it } from 'vitest';
import {
  OPERATIONAL_EVENT_TYPES as T,
  deliveryEventAfterAttempt,
  deliveryEventData,
  endpointEventData,
  inboundRejectedData,
  isOperationalEventType,
  operationalPayload,
  receivesOperationalEvent,
  summaryWindow,
  type RecipientCandidate,
} from './operational-events.js';

const subscriber = (over: Partial<RecipientCandidate> = {}): RecipientCandidate => ({
  id: 'ep_sub',
  consumerId: null,
  eventTypes: [T.endpointDisabled],
  status: 'active',
  direction: 'outbound',
  deleted: false,
  ...over,
});
const subject = { endpointId: 'ep_subject', consumerId: 'acme' };

describe('receivesOperationalEvent', () => {
  it("goes to the operator's endpoints that list the type", () => {
    expect(receivesOperationalEvent(subscriber(), T.endpointDisabled, subject)).toBe(true);
    expect(receivesOperationalEvent(subscriber({ status: 'paused' }), T.endpointDisabled, subject)).toBe(true);
  });
  it('needs the exact type in the filter: no filter, an empty one or another type is not a subscription', () => {
    expect(receivesOperationalEvent(subscriber({ eventTypes: null }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ eventTypes: [] }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ eventTypes: [T.endpointEnabled, 'hookbridge.*'] }), T.endpointDisabled, subject)).toBe(false);
  });
  it("never goes to the subject, another consumer's endpoint, a disabled, deleted or inbound one", () => {
    expect(receivesOperationalEvent(subscriber({ id: 'ep_subject' }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ consumerId: 'globex' }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ status: 'disabled' }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ deleted: true }), T.endpointDisabled, subject)).toBe(false);
    expect(receivesOperationalEvent(subscriber({ direction: 'inbound' }), T.endpointDisabled, subject)).toBe(false);
  });
  it("goes to the subject's own consumer, but a consumer never hears about the operator's endpoints", () => {
    expect(receivesOperationalEvent(subscriber({ consumerId: 'acme' }), T.endpointDisabled, subject)).toBe(true);
    expect(receivesOperationalEvent(subscriber({ consumerId: 'acme' }), T.endpointDisabled, { endpointId: 'ep_x', consumerId: null })).toBe(false);
  });
});

describe('deliveryEventAfterAttempt', () => {
  const base = { eventType: 'order.paid', direction: 'outbound', runAttemptsBefore: 0 };
  it('reports a delivery given up on, and one that succeeded after failing', () => {
    expect(deliveryEventAfterAttempt({ ...base, status: 'failed' })).toBe(T.deliveryFailed);
    expect(deliveryEventAfterAttempt({ ...base, status: 'succeeded', runAttemptsBefore: 2 })).toBe(T.deliveryRecovered);
  });
  it('says nothing about a first-time success or a retry still planned', () => {
    expect(deliveryEventAfterAttempt({ ...base, status: 'succeeded' })).toBeNull();
    expect(deliveryEventAfterAttempt({ ...base, status: 'pending_retry', runAttemptsBefore: 3 })).toBeNull();
    expect(deliveryEventAfterAttempt({ ...base, status: 'cancelled' })).toBeNull();
  });
  it('never reports on deliveries of operational events (no loops)', () => {
    expect(deliveryEventAfterAttempt({ ...base, eventType: T.deliveryFailed, status: 'failed' })).toBeNull();
    expect(deliveryEventAfterAttempt({ ...base, eventType: T.endpointDisabled, status: 'succeeded', runAttemptsBefore: 1 })).toBeNull();
  });
  it('does report on forwarded inbound events, whatever type the provider gave them', () => {
    expect(deliveryEventAfterAttempt({ ...base, direction: 'inbound', eventType: 'hookbridge.delivery.failed', status: 'failed' })).toBe(T.deliveryFailed);
  });
});

describe('payloads', () => {
  it('wrap the data with the type and an RFC 3339 time', () => {
    const p = JSON.parse(operationalPayload(T.endpointDisabled, Date.UTC(2025, 0, 2, 3, 4, 5), endpointEventData({ id: 'ep_1', consumerId: null, url: 'https://x' }, 'gone')));
    expect(p).toEqual({ type: T.endpointDisabled, timestamp: '2025-01-02T03:04:05.000Z', data: { endpoint_id: 'ep_1', consumer_id: null, url: 'https://x', reason: 'gone' } });
  });
  it('carry the delivery facts and the inbound counts', () => {
    expect(
      deliveryEventData({ deliveryId: 'd', messageId: 'm', endpointId: 'e', consumerId: 'c', eventType: 't', attemptCount: 3, lastStatusCode: 500, lastError: 'x' }),
    ).toEqual({ delivery_id: 'd', message_id: 'm', endpoint_id: 'e', consumer_id: 'c', event_type: 't', attempt_count: 3, last_status_code: 500, last_error: 'x' });
    expect(inboundRejectedData('in_1', 0, 1000, { signature_invalid: 3, ip_not_allowed: 1 })).toEqual({
      inbound_endpoint_id: 'in_1',
      since: '1970-01-01T00:00:00.000Z',
      until: '1970-01-01T00:00:01.000Z',
      total: 4,
      by_reason: { signature_invalid: 3, ip_not_allowed: 1 },
    });
  });
  it('the hookbridge. prefix marks operational types', () => {
    expect(isOperationalEventType('hookbridge.endpoint.disabled')).toBe(true);
    expect(isOperationalEventType('hookbridgex.a')).toBe(false);
    expect(isOperationalEventType('order.hookbridge.a')).toBe(false);
  });
});

describe('summaryWindow', () => {
  it('closes a window once a full period has passed, ending a little before now', () => {
    expect(summaryWindow(1000, 1000 + 60_000 + 5000, 60_000, 5000)).toEqual({ since: 1000, until: 61_000 });
    expect(summaryWindow(1000, 1000 + 60_000 + 4999, 60_000, 5000)).toBeNull();
  });
});
