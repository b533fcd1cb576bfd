/**
 * Inbound endpoints: the ingest side (`inbound_endpoints`) and, under the same id, the delivery
 * side (an `endpoints` row with direction 'inbound'), created, changed and deleted together.
 */
import type { Kysely, Selectable } from 'kysely';
import { newId } from '../core/ids.js';
import type { InboundEndpoint, InboundMode, Ordering, Page } from '../core/model.js';
import type { SecretBox } from '../core/secret-box.js';
import { generateSigningSecret } from '../core/signing.js';
import type { VerificationConfig } from '../core/verify/index.js';
import type { EndpointRepository } from './endpoints.js';
import { json, jsonOrNull } from './rows.js';
import type { Database, EndpointsTable, InboundEndpointsTable } from './schema.js';

/** What a user sets; the rest (id, status, times) the store decides. */
export type InboundEndpointInput = Omit<InboundEndpoint, 'id' | 'projectId' | 'status' | 'createdAt' | 'updatedAt'>;

type Row = Selectable<InboundEndpointsTable> & Pick<Selectable<EndpointsTable>, 'url' | 'ordering' | 'timeout_ms' | 'retry_schedule' | 'status' | 'created_at' | 'updated_at'>;

export class InboundEndpointRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly endpoints: EndpointRepository,
  ) {}

  private fromRow(r: Row): InboundEndpoint {
    return {
      id: r.id,
      projectId: r.project_id,
      name: r.name,
      mode: r.mode as InboundMode,
      destinationUrl: r.url === '' ? null : r.url,
      verification: JSON.parse(this.box.open(r.verification_enc)) as VerificationConfig,
      allowedCidrs: json<string[]>(r.allowed_cidrs),
      idempotencyHeaderNames: json<string[]>(r.idempotency_header_names),
      dedupeWindowSeconds: r.dedupe_window_seconds,
      retentionSeconds: r.retention_seconds,
      ingestResponseCode: r.ingest_response_code,
      ordering: r.ordering as Ordering,
      timeoutMs: r.timeout_ms,
      retrySchedule: json<number[]>(r.retry_schedule),
      status: r.status as InboundEndpoint['status'],
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  }

  private select(db: Kysely<Database> = this.db) {
    return db
      .selectFrom('inbound_endpoints as i')
      .innerJoin('endpoints as e', 'e.id', 'i.id')
      .selectAll('i')
      .select(['e.url', 'e.ordering', 'e.timeout_ms', 'e.retry_schedule', 'e.status', 'e.created_at', 'e.updated_at'])
      .where('e.deleted_at', 'is', null);
  }

  async create(projectId: string, input: InboundEndpointInput): Promise<{ inbound: InboundEndpoint; secret: string }> {
    const now = Date.now();
    const id = newId('in', now);
    const secret = generateSigningSecret();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('endpoints')
        .values({
          id,
          project_id: projectId,
          url: input.destinationUrl ?? '',
          consumer_id: null,
          description: null,
          event_types: null,
          channels: null,
          headers: '{}',
          rate_limit_rps: null,
          timeout_ms: input.timeoutMs,
          retry_schedule: jsonOrNull(input.retrySchedule),
          retry_client_errors: 0,
          signature_scheme: 'standard',
          ordering: input.ordering,
          metadata: '{}',
          status: 'active',
          disabled_reason: null,
          created_at: now,
          updated_at: now,
          deleted_at: null,
          direction: 'inbound',
        })
        .execute();
      await trx
        .insertInto('endpoint_secrets')
        .values({ id: newId('sec', now), endpoint_id: id, secret_enc: this.box.seal(secret), created_at: now, expires_at: null })
        .execute();
      await trx.insertInto('inbound_endpoints').values({ id, project_id: projectId, ...this.ingestColumns(input) }).execute();
    });
    return { inbound: (await this.get(projectId, id))!, secret };
  }

  private ingestColumns(i: InboundEndpointInput) {
    return {
      name: i.name,
      mode: i.mode,
      verification_enc: this.box.seal(JSON.stringify(i.verification)),
      allowed_cidrs: jsonOrNull(i.allowedCidrs),
      idempotency_header_names: jsonOrNull(i.idempotencyHeaderNames),
      dedupe_window_seconds: i.dedupeWindowSeconds,
      retention_seconds: i.retentionSeconds,
      ingest_response_code: i.ingestResponseCode,
    };
  }

  async get(projectId: string, id: string): Promise<InboundEndpoint | null> {
    const r = await this.select().where('i.id', '=', id).where('i.project_id', '=', projectId).executeTakeFirst();
    return r ? this.fromRow(r) : null;
  }

  /** For the ingest route, which knows only the id from the URL. */
  async getForIngest(id: string): Promise<InboundEndpoint | null> {
    const r = await this.select().where('i.id', '=', id).executeTakeFirst();
    return r ? this.fromRow(r) : null;
  }

  async list(projectId: string, limit: number, cursor?: string): Promise<Page<InboundEndpoint>> {
    let q = this.select().where('i.project_id', '=', projectId).orderBy('i.id', 'desc').limit(limit + 1);
    if (cursor) q = q.where('i.id', '<', cursor);
    const rows = await q.execute();
    const hasMore = rows.length > limit;
    const kept = hasMore ? rows.slice(0, limit) : rows;
    return { data: kept.map((r) => this.fromRow(r)), hasMore, nextCursor: hasMore ? kept[kept.length - 1].id : null };
  }

  /** Replaces the whole configuration (the API merges a patch onto the current one first). */
  async update(projectId: string, id: string, input: InboundEndpointInput): Promise<InboundEndpoint | null> {
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('inbound_endpoints').set(this.ingestColumns(input)).where('id', '=', id).where('project_id', '=', projectId).execute();
      await trx
        .updateTable('endpoints')
        .set({ url: input.destinationUrl ?? '', timeout_ms: input.timeoutMs, retry_schedule: jsonOrNull(input.retrySchedule), ordering: input.ordering, updated_at: now })
        .where('id', '=', id)
        .where('project_id', '=', projectId)
        .where('direction', '=', 'inbound')
        .execute();
    });
    return this.get(projectId, id);
  }

  delete(projectId: string, id: string): Promise<boolean> {
    return this.endpoints.delete(projectId, id, 'inbound');
  }
}
