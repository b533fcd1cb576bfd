/**
 * Recording an attempt, in the worker's group-committed transaction: the attempt row, the
 * delivery's next state, the endpoint's failing streak and auto-disable, and the operational
 * events all of that causes — so an event goes out exactly when its change committed.
 */
import type { Insertable, Kysely } from 'kysely';
import { sql } from 'kysely';
import { autoDisableLimits, autoDisableReason, shouldAutoDisable, type AutoDisableLimits } from '../core/auto-disable.js';
import { newId } from '../core/ids.js';
import type { DeliveryStatus } from '../core/model.js';
import {
  OPERATIONAL_EVENT_TYPES,
  deliveryEventAfterAttempt,
  deliveryEventData,
  endpointEventData,
  type OperationalEventType,
} from '../core/operational-events.js';
import type { Decision, ErrorClass } from '../core/retry-policy.js';
import type { ClaimedDelivery } from './deliveries.js';
import type { EndpointRepository } from './endpoints.js';
import { promoteFifoHead } from './fifo.js';
import { hotQuery } from './hot-query.js';
import { emitOperationalEvent } from './operational-events.js';
import type { AttemptsTable, Database, DeliveriesTable } from './schema.js';

export interface AttemptRecord {
  delivery: ClaimedDelivery;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  errorClass: ErrorClass | null;
  errorMessage: string | null;
  responseBody: string | null;
  responseTruncated: boolean;
  decision: Decision;
  /** The server's auto-disable limits, for endpoints and projects that set none. */
  autoDisable: AutoDisableLimits;
  /** The id of the request sent (its x-hookbridge-request-id header). */
  requestId?: string | null;
  /** The headers of the request sent, as they may be shown (custom header values redacted). */
  requestHeaders?: Record<string, string> | null;
}

/** What recording an attempt did. */
export interface RecordedAttempt {
  /** The status the delivery took (metrics count the finished ones). */
  status: DeliveryStatus;
  /** This attempt disabled its endpoint (a 410, auto-disable): what is claimed for it goes back. */
  endpointDisabled: boolean;
  /** Endpoints that got operational-event deliveries queued: worth waking the worker for. */
  queuedFor: string[];
  /**
   * The delivery had left 'delivering' before this record (cancelled by DELETE /v1/messages,
   * handed back): the attempt row is kept, but the delivery's state, counts and events are not its.
   */
  superseded: boolean;
  /** What the endpoint's failing streak needs after the commit (updateFailingStreak). */
  streak: StreakChange | null;
  /** The streak could not be updated (the record itself committed): auto-disable counts one less. */
  streakError?: unknown;
}

/** A failed attempt extends the endpoint's failing streak; the first success after one ends it. */
export interface StreakChange {
  kind: 'failure' | 'success';
  endpoint: { consumerId: string | null; disableAfterSeconds: number | null; disableMinFailures: number | null; direction: string };
}

// The statements of every attempt record (hot-query.ts).
export const insertAttempt = hotQuery((db, p: Insertable<AttemptsTable>) => db.insertInto('attempts').values({ ...p }));
/** Read on every record anyway, so a healthy endpoint's streak costs no extra statement. */
const endpointStateById = hotQuery((db, p: { id: string }) =>
  db
    .selectFrom('endpoints')
    .select(['status', 'deleted_at', 'consumer_id', 'direction', 'failing_since', 'failures_since_success', 'disable_after_seconds', 'disable_min_failures'])
    .where('id', '=', p.id),
);
type RunUpdate = Pick<DeliveriesTable, 'id' | 'status' | 'next_attempt_at' | 'attempt_count' | 'run_attempts' | 'last_status_code' | 'last_error' | 'last_attempt_at' | 'updated_at'>;
const finishAttemptRun = hotQuery((db, { id, ...p }: RunUpdate) =>
  db
    .updateTable('deliveries')
    .set({ ...p, lease_expires_at: null })
    .where('id', '=', id)
    // Only while this claim still holds it: a delivery handed back or claimed again meanwhile
    // keeps its new state (the attempt row still records what happened).
    .where(sql<boolean>`status = 'delivering'`)
    .returning('id'),
);
const deliveryStatusById = hotQuery((db, p: { id: string }) => db.selectFrom('deliveries').select('status').where('id', '=', p.id));
/** In SQL, not from the values read above: another worker may be counting the same endpoint. */
const countFailure = hotQuery((db, p: { id: string; startedAt: number }) =>
  db
    .updateTable('endpoints')
    .set((eb) => ({ failures_since_success: eb('failures_since_success', '+', 1), failing_since: eb.fn.coalesce('failing_since', eb.val(p.startedAt)) }))
    .where('id', '=', p.id)
    .returning(['failures_since_success', 'failing_since']),
);
const endStreak = hotQuery((db, p: { id: string }) => db.updateTable('endpoints').set({ failures_since_success: 0, failing_since: null }).where('id', '=', p.id));

export async function recordAttemptIn(trx: Kysely<Database>, endpoints: EndpointRepository, rec: AttemptRecord): Promise<RecordedAttempt> {
  const d = rec.delivery;
  const now = rec.startedAt + rec.durationMs;
  const outcome = rec.decision.kind;
  await insertAttempt(trx, {
    id: newId('att', rec.startedAt),
    delivery_id: d.id,
    project_id: d.projectId,
    endpoint_id: d.endpointId,
    attempt_number: d.attemptNumber,
    started_at: rec.startedAt,
    duration_ms: rec.durationMs,
    status_code: rec.statusCode,
    outcome,
    error_class: rec.errorClass,
    error_message: rec.errorMessage,
    response_body: rec.responseBody,
    response_truncated: rec.responseTruncated ? 1 : 0,
    request_id: rec.requestId ?? null,
    request_headers: rec.requestHeaders ? JSON.stringify(rec.requestHeaders) : null,
  });
  const [endpoint] = await endpointStateById(trx, { id: d.endpointId });
  let status: DeliveryStatus;
  let next: number | null = null;
  if (outcome === 'succeeded') status = 'succeeded';
  else if (outcome === 'failed') status = 'failed';
  else if (!endpoint || endpoint.deleted_at !== null) status = 'cancelled';
  else if (endpoint.status !== 'active') status = 'paused';
  else {
    status = 'pending_retry';
    next = now + (rec.decision.kind === 'retry' ? rec.decision.delayMs : 0);
  }
  const lastError =
    rec.decision.kind === 'failed' ? rec.decision.reason : (rec.errorMessage ?? (rec.statusCode !== null ? `endpoint answered ${rec.statusCode}` : null));
  const finished = await finishAttemptRun(trx, {
    id: d.id,
    status,
    next_attempt_at: status === 'paused' ? now : next,
    attempt_count: d.attemptNumber,
    run_attempts: d.runAttempts + 1,
    last_status_code: rec.statusCode,
    last_error: status === 'succeeded' ? null : lastError,
    last_attempt_at: rec.startedAt,
    updated_at: now,
  });
  if (finished.length === 0) {
    // Left 'delivering' meanwhile: what it is now was decided (and counted) by whoever moved it.
    const [current] = await deliveryStatusById(trx, { id: d.id });
    return { status: (current?.status ?? 'cancelled') as DeliveryStatus, endpointDisabled: false, queuedFor: [], superseded: true, streak: null };
  }
  if (d.ordering === 'fifo' && (status === 'succeeded' || status === 'failed' || status === 'cancelled')) {
    await promoteFifoHead(trx, d.endpointId, now);
  }

  const queuedFor: string[] = [];
  const emit = async (type: OperationalEventType, data: Record<string, unknown>) => {
    const subject = { endpointId: d.endpointId, consumerId: endpoint?.consumer_id ?? null };
    queuedFor.push(...(await emitOperationalEvent(trx, { projectId: d.projectId, type, subject, data, now })));
  };
  let endpointDisabled = false;
  let streak: StreakChange | null = null;
  if (endpoint && endpoint.deleted_at === null) {
    const info = { consumerId: endpoint.consumer_id, disableAfterSeconds: endpoint.disable_after_seconds, disableMinFailures: endpoint.disable_min_failures, direction: endpoint.direction };
    if (outcome !== 'succeeded') streak = { kind: 'failure', endpoint: info };
    else if (endpoint.failures_since_success > 0) streak = { kind: 'success', endpoint: info };
    const disableReason = rec.decision.kind === 'failed' && rec.decision.disableEndpoint ? rec.decision.reason : null;
    if (disableReason !== null && endpoint.status !== 'disabled' && (await endpoints.disableIn(trx, d.endpointId, disableReason, now))) {
      endpointDisabled = true;
      await emit(OPERATIONAL_EVENT_TYPES.endpointDisabled, endpointEventData({ id: d.endpointId, consumerId: endpoint.consumer_id, url: d.url }, disableReason));
    }
  }
  const deliveryEvent = deliveryEventAfterAttempt({ status, runAttemptsBefore: d.runAttempts, eventType: d.eventType, direction: d.direction });
  if (deliveryEvent) {
    await emit(
      deliveryEvent,
      deliveryEventData({
        deliveryId: d.id,
        messageId: d.messageId,
        endpointId: d.endpointId,
        consumerId: endpoint?.consumer_id ?? null,
        eventType: d.eventType,
        attemptCount: d.attemptNumber,
        lastStatusCode: rec.statusCode,
        lastError: status === 'succeeded' ? null : lastError,
      }),
    );
  }
  return { status, endpointDisabled, queuedFor, superseded: false, streak };
}

/**
 * Counts the attempt in its endpoint's failing streak, and auto-disables the endpoint when the
 * streak passes its limits (publishing hookbridge.endpoint.disabled in the same transaction).
 *
 * Its own short transaction, after the record committed: the record runs in a group-committed
 * batch, and an endpoint row updated there would stay locked until the whole batch commits — on
 * PostgreSQL two workers whose batches touch the same endpoints in another order would deadlock,
 * and every worker's batch would queue behind one failing endpoint's row. Here the row is locked
 * for one statement (or, when disabling, before its deliveries, in the order a pause takes).
 * A crash between the two loses one count, which only delays auto-disable.
 */
export async function updateFailingStreakIn(trx: Kysely<Database>, endpoints: EndpointRepository, rec: AttemptRecord, change: StreakChange): Promise<Pick<RecordedAttempt, 'endpointDisabled' | 'queuedFor'>> {
  const d = rec.delivery;
  if (change.kind === 'success') {
    await endStreak(trx, { id: d.endpointId });
    return { endpointDisabled: false, queuedFor: [] };
  }
  const [counted] = await countFailure(trx, { id: d.endpointId, startedAt: rec.startedAt });
  // Inbound forwarding is left alone: disabling it would refuse the provider's requests.
  if (!counted || change.endpoint.direction !== 'outbound') return { endpointDisabled: false, queuedFor: [] };
  const now = rec.startedAt + rec.durationMs;
  const streak = { failures: Number(counted.failures_since_success), failingSince: counted.failing_since === null ? null : Number(counted.failing_since) };
  const limits = autoDisableLimits({ disableAfterSeconds: change.endpoint.disableAfterSeconds, disableMinFailures: change.endpoint.disableMinFailures }, d.projectSettings, rec.autoDisable);
  if (!shouldAutoDisable(streak, limits, now)) return { endpointDisabled: false, queuedFor: [] };
  const reason = autoDisableReason(streak, limits);
  if (!(await endpoints.disableIn(trx, d.endpointId, reason, now))) return { endpointDisabled: false, queuedFor: [] };
  const queuedFor = await emitOperationalEvent(trx, {
    projectId: d.projectId,
    type: OPERATIONAL_EVENT_TYPES.endpointDisabled,
    subject: { endpointId: d.endpointId, consumerId: change.endpoint.consumerId },
    data: endpointEventData({ id: d.endpointId, consumerId: change.endpoint.consumerId, url: d.url }, reason),
    now,
  });
  return { endpointDisabled: true, queuedFor };
}
