/** Outbound endpoints and their signing secrets. */
import { sql, type Kysely } from 'kysely';
import { newId } from '../core/ids.js';
import type { Endpoint, EndpointStatus, Page } from '../core/model.js';
import { endpointEventData, OPERATIONAL_EVENT_TYPES } from '../core/operational-events.js';
import { generateSigningSecret } from '../core/signing.js';
import type { SecretBox } from '../core/secret-box.js';
import { emitOperationalEvent } from './operational-events.js';
import { endpointFromRow, jsonOrNull, openHeaders, sealHeaders, toPage } from './rows.js';
import type { Database } from './schema.js';

export type EndpointInput = Pick<
  Endpoint,
  | 'url'
  | 'consumerId'
  | 'description'
  | 'eventTypes'
  | 'channels'
  | 'headers'
  | 'rateLimitRps'
  | 'timeoutMs'
  | 'retrySchedule'
  | 'retryClientErrors'
  | 'signatureScheme'
  | 'ordering'
  | 'metadata'
  | 'disableAfterSeconds'
  | 'disableMinFailures'
> & {
  /** The URL is set in a consumer portal session: it is sent to under the portal's network policy. */
  urlSetInPortal?: boolean;
};

/** What an endpoint gets for every field its creator leaves out. */
export const ENDPOINT_DEFAULTS: Omit<EndpointInput, 'url'> = {
  consumerId: null,
  description: null,
  eventTypes: null,
  channels: null,
  headers: {},
  rateLimitRps: null,
  timeoutMs: null,
  retrySchedule: null,
  retryClientErrors: false,
  signatureScheme: 'standard',
  ordering: 'none',
  metadata: {},
  disableAfterSeconds: null,
  disableMinFailures: null,
};

function inputColumns(i: Partial<EndpointInput>, box: SecretBox) {
  const cols: Record<string, unknown> = {};
  if (i.url !== undefined) cols.url = i.url;
  if (i.consumerId !== undefined) cols.consumer_id = i.consumerId;
  if (i.description !== undefined) cols.description = i.description;
  if (i.eventTypes !== undefined) cols.event_types = jsonOrNull(i.eventTypes);
  if (i.channels !== undefined) cols.channels = jsonOrNull(i.channels);
  if (i.headers !== undefined) cols.headers = sealHeaders(box, i.headers);
  if (i.rateLimitRps !== undefined) cols.rate_limit_rps = i.rateLimitRps;
  if (i.timeoutMs !== undefined) cols.timeout_ms = i.timeoutMs;
  if (i.retrySchedule !== undefined) cols.retry_schedule = jsonOrNull(i.retrySchedule);
  if (i.retryClientErrors !== undefined) cols.retry_client_errors = i.retryClientErrors ? 1 : 0;
  if (i.signatureScheme !== undefined) cols.signature_scheme = i.signatureScheme;
  if (i.ordering !== undefined) cols.ordering = i.ordering;
  if (i.metadata !== undefined) cols.metadata = JSON.stringify(i.metadata ?? {});
  if (i.disableAfterSeconds !== undefined) cols.disable_after_seconds = i.disableAfterSeconds;
  if (i.disableMinFailures !== undefined) cols.disable_min_failures = i.disableMinFailures;
  if (i.urlSetInPortal !== undefined) cols.url_set_in_portal = i.urlSetInPortal ? 1 : 0;
  return cols;
}

/** Outbound endpoints, or the delivery side of inbound endpoints (which share the id). */
export type Direction = 'outbound' | 'inbound';

/** Deliveries that have not reached an end state and are not being attempted right now. */
const WAITING = ['queued', 'pending_retry'] as const;

/** A paused or disabled endpoint's waiting deliveries wait as `paused` until it is resumed. */
async function parkWaiting(trx: Kysely<Database>, endpointId: string, now: number): Promise<void> {
  await trx
    .updateTable('deliveries')
    .set({ status: 'paused', updated_at: now })
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', [...WAITING])
    .execute();
}

export class EndpointRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {}

  private readonly openedHeaders = new Map<string, Record<string, string>>();

  /**
   * Opens an endpoints.headers value (sealed at rest: see sealHeaders). Every claimed delivery
   * carries its endpoint's value, and a sealed value stays the same string until the headers
   * change, so each is opened (AES-GCM) once rather than once per delivery.
   */
  readonly headersOf = (stored: string): Record<string, string> => {
    if (stored === '{}') return {};
    let opened = this.openedHeaders.get(stored);
    if (!opened) {
      if (this.openedHeaders.size >= 1000) this.openedHeaders.clear();
      opened = openHeaders(this.box, stored);
      this.openedHeaders.set(stored, opened);
    }
    return { ...opened };
  };

  /**
   * Seals the headers of endpoints stored before headers were sealed at rest; run at open.
   * Idempotent, so processes starting together may both run it.
   */
  async sealPlainHeaders(): Promise<number> {
    const rows = await this.db.selectFrom('endpoints').select(['id', 'headers']).where('headers', 'like', '{%').where('headers', '!=', '{}').execute();
    for (const r of rows) {
      await this.db.updateTable('endpoints').set({ headers: sealHeaders(this.box, this.headersOf(r.headers)) }).where('id', '=', r.id).where('headers', '=', r.headers).execute();
    }
    return rows.length;
  }

  async create(projectId: string, input: EndpointInput): Promise<{ endpoint: Endpoint; secret: string }> {
    const now = Date.now();
    const id = newId('ep');
    const secret = generateSigningSecret();
    const row = {
      id,
      project_id: projectId,
      url: input.url,
      consumer_id: input.consumerId,
      description: input.description,
      event_types: jsonOrNull(input.eventTypes),
      channels: jsonOrNull(input.channels),
      headers: sealHeaders(this.box, input.headers),
      rate_limit_rps: input.rateLimitRps,
      timeout_ms: input.timeoutMs,
      retry_schedule: jsonOrNull(input.retrySchedule),
      retry_client_errors: input.retryClientErrors ? 1 : 0,
      signature_scheme: input.signatureScheme,
      ordering: input.ordering,
      metadata: JSON.stringify(input.metadata ?? {}),
      status: 'active',
      disabled_reason: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      direction: 'outbound',
      failing_since: null,
      failures_since_success: 0,
      disable_after_seconds: input.disableAfterSeconds,
      disable_min_failures: input.disableMinFailures,
      url_set_in_portal: input.urlSetInPortal ? 1 : 0,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('endpoints').values(row).execute();
      await trx
        .insertInto('endpoint_secrets')
        .values({ id: newId('sec'), endpoint_id: id, secret_enc: this.box.seal(secret), created_at: now, expires_at: null })
        .execute();
    });
    return { endpoint: endpointFromRow(row, this.headersOf), secret };
  }

  async get(projectId: string, id: string, db: Kysely<Database> = this.db, direction: Direction = 'outbound'): Promise<Endpoint | null> {
    const r = await db
      .selectFrom('endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .where('deleted_at', 'is', null)
      .where('direction', '=', direction)
      .executeTakeFirst();
    return r ? endpointFromRow(r, this.headersOf) : null;
  }

  async list(projectId: string, filter: { consumerId?: string; status?: EndpointStatus }, limit: number, cursor?: string): Promise<Page<Endpoint>> {
    let q = this.db
      .selectFrom('endpoints')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('deleted_at', 'is', null)
      .where('direction', '=', 'outbound')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (filter.consumerId !== undefined) q = q.where('consumer_id', '=', filter.consumerId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, (r) => endpointFromRow(r, this.headersOf));
  }

  async update(projectId: string, id: string, patch: Partial<EndpointInput>, direction: Direction = 'outbound'): Promise<Endpoint | null> {
    const cols = inputColumns(patch, this.box);
    await this.db
      .updateTable('endpoints')
      .set({ ...cols, updated_at: Date.now() })
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .where('deleted_at', 'is', null)
      .where('direction', '=', direction)
      .execute();
    return this.get(projectId, id, this.db, direction);
  }

  /** Soft delete: attempts and deliveries stay readable; waiting deliveries are cancelled. */
  async delete(projectId: string, id: string, direction: Direction = 'outbound'): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const r = await trx
        .updateTable('endpoints')
        .set({ deleted_at: now, updated_at: now })
        .where('id', '=', id)
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where('direction', '=', direction)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await trx
        .updateTable('deliveries')
        .set({ status: 'cancelled', next_attempt_at: null, updated_at: now, last_error: 'endpoint deleted' })
        .where('endpoint_id', '=', id)
        .where('status', 'in', [...WAITING, 'paused'])
        .execute();
      return true;
    });
  }

  /**
   * Changes an endpoint's status and moves its waiting deliveries with it: pausing or disabling
   * parks them as `paused`; activating sends every parked delivery at once. Either direction:
   * callers check which kind of endpoint they hold.
   */
  async setStatus(projectId: string, id: string, status: EndpointStatus, reason: string | null = null, db: Kysely<Database> = this.db): Promise<Endpoint | null> {
    const run = async (trx: Kysely<Database>) => {
      const now = Date.now();
      const r = await trx
        .updateTable('endpoints')
        .set({ status, disabled_reason: status === 'disabled' ? reason : null, updated_at: now })
        .where('id', '=', id)
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (status === 'active') {
        await trx
          .updateTable('deliveries')
          // Deliveries waiting behind a fifo head (no due time) keep waiting.
          .set({ status: 'queued', next_attempt_at: sql<number | null>`case when next_attempt_at is null then null else cast(${now} as bigint) end`, updated_at: now })
          .where('endpoint_id', '=', id)
          .where('status', '=', 'paused')
          .execute();
      } else {
        await parkWaiting(trx, id, now);
      }
      return true;
    };
    const ok = db === this.db ? await this.db.transaction().execute(run) : await run(db);
    if (!ok) return null;
    const r = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return endpointFromRow(r, this.headersOf);
  }

  /**
   * Disables an endpoint that is not disabled yet (a 410, auto-disable), parking its waiting
   * deliveries, inside the caller's transaction. True only for the call that disabled it, even
   * with several workers at once (the row lock makes the second one see it disabled), so
   * hookbridge.endpoint.disabled goes out once per disable.
   */
  async disableIn(trx: Kysely<Database>, id: string, reason: string, now: number): Promise<boolean> {
    const r = await trx
      .updateTable('endpoints')
      .set({ status: 'disabled', disabled_reason: reason, updated_at: now })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where('status', '!=', 'disabled')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await parkWaiting(trx, id, now);
    return true;
  }

  /**
   * Resumes a paused or disabled endpoint in one transaction: parked deliveries go out again, the
   * failing streak starts over (auto-disable measures from here), and re-enabling a disabled one
   * emits hookbridge.endpoint.enabled. `queuedFor`: endpoints that got operational deliveries.
   */
  async resume(projectId: string, id: string, direction: Direction = 'outbound'): Promise<{ endpoint: Endpoint; queuedFor: string[] } | null> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.get(projectId, id, trx, direction);
      if (!current) return null;
      const now = Date.now();
      // The status changes in this statement, so of two resumes at once only one sees it disabled.
      const enabled = await trx.updateTable('endpoints').set({ status: 'active', updated_at: now }).where('id', '=', id).where('status', '=', 'disabled').executeTakeFirst();
      if (current.status !== 'active') {
        await trx.updateTable('endpoints').set({ failures_since_success: 0, failing_since: null }).where('id', '=', id).execute();
      }
      const endpoint = await this.setStatus(projectId, id, 'active', null, trx);
      if (!endpoint) return null;
      const queuedFor =
        Number(enabled.numUpdatedRows) > 0
          ? await emitOperationalEvent(trx, {
              projectId,
              type: OPERATIONAL_EVENT_TYPES.endpointEnabled,
              subject: { endpointId: id, consumerId: current.consumerId },
              data: endpointEventData(current, 'resumed'),
              now,
            })
          : [];
      return { endpoint, queuedFor };
    });
  }

  /** New current secret; the old ones keep signing until `graceMs` from now. */
  async rotateSecret(projectId: string, id: string, graceMs: number, direction: Direction = 'outbound'): Promise<string | null> {
    const endpoint = await this.get(projectId, id, this.db, direction);
    if (!endpoint) return null;
    const now = Date.now();
    const secret = generateSigningSecret();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('endpoint_secrets')
        .set({ expires_at: now + graceMs })
        .where('endpoint_id', '=', id)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now + graceMs)]))
        .execute();
      await trx
        .insertInto('endpoint_secrets')
        .values({ id: newId('sec'), endpoint_id: id, secret_enc: this.box.seal(secret), created_at: now, expires_at: null })
        .execute();
    });
    return secret;
  }

  /** Secrets that sign right now, newest first, per endpoint. */
  async activeSecrets(endpointIds: string[], now: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (endpointIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('endpoint_secrets')
      .select(['endpoint_id', 'secret_enc'])
      .where('endpoint_id', 'in', endpointIds)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    for (const r of rows) {
      const list = out.get(r.endpoint_id) ?? [];
      list.push(this.box.open(r.secret_enc));
      out.set(r.endpoint_id, list);
    }
    return out;
  }
}
