/**
 * Export jobs. A job is a row saying what to export (kind, format, the filters as given) and which
 * rows: those matching when it was made, newest first, up to `last_id`, the newest of them (ids
 * sort by creation, so rows created later are past the bound). The file itself is never stored: a
 * download reads the rows straight from the database in keyset pages, so any API process of a
 * PostgreSQL deployment can serve it, for as long as it takes, holding one page at a time.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ExportFormat, ExportKind } from '../core/export-format.js';
import { newId } from '../core/ids.js';
import type { Delivery, InboundEvent, Page } from '../core/model.js';
import type { InboundEventRepository } from './inbound-events.js';
import { whereDelivery, whereInboundEvent, type DeliveryFilter, type InboundEventFilter } from './list-filters.js';
import { deliveryFromRow, toPage } from './rows.js';
import type { Database, ExportsTable } from './schema.js';

export type ExportStatus = 'pending' | 'ready' | 'failed';

export interface ExportJob {
  id: string;
  projectId: string;
  kind: ExportKind;
  format: ExportFormat;
  /** The filters as the API took them (snake_case names, RFC 3339 times), echoed back as given. */
  filters: Record<string, string>;
  status: ExportStatus;
  /** Rows matching when the job was made. */
  rowCount: number | null;
  /** The snapshot bound: the newest row included (null: nothing matched). */
  lastId: string | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  expiresAt: number;
}

export interface NewExport {
  projectId: string;
  kind: ExportKind;
  format: ExportFormat;
  filters: Record<string, string>;
  /** The same filters as store conditions (for deliveries or for inbound events, by kind). */
  match: DeliveryFilter | InboundEventFilter;
  ttlMs: number;
}

function jobFromRow(r: Selectable<ExportsTable>): ExportJob {
  return {
    id: r.id,
    projectId: r.project_id,
    kind: r.kind as ExportKind,
    format: r.format as ExportFormat,
    filters: JSON.parse(r.filters) as Record<string, string>,
    status: r.status as ExportStatus,
    rowCount: r.row_count === null ? null : Number(r.row_count),
    lastId: r.last_id,
    error: r.error,
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    expiresAt: Number(r.expires_at),
  };
}

export class ExportRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly inboundEvents: InboundEventRepository,
  ) {}

  /**
   * Makes a job: counts the matching rows and fixes the newest of them as the bound, in one
   * statement (so the count and the bound agree), then stores the job, ready to download.
   */
  async create(input: NewExport): Promise<ExportJob> {
    const createdAt = Date.now();
    const counted =
      input.kind === 'deliveries'
        ? await whereDelivery(this.db.selectFrom('deliveries'), input.projectId, input.match as DeliveryFilter)
            .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('id').as('newest')])
            .executeTakeFirstOrThrow()
        : await whereInboundEvent(this.db.selectFrom('messages'), input.projectId, input.match as InboundEventFilter)
            .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('id').as('newest')])
            .executeTakeFirstOrThrow();
    const row: ExportsTable = {
      id: newId('exp', createdAt),
      project_id: input.projectId,
      kind: input.kind,
      format: input.format,
      filters: JSON.stringify(input.filters),
      status: 'ready',
      row_count: Number(counted.n),
      last_id: (counted.newest as string | null) ?? null,
      error: null,
      created_at: createdAt,
      finished_at: Date.now(),
      expires_at: createdAt + input.ttlMs,
    };
    await this.db.insertInto('exports').values(row).execute();
    return jobFromRow(row);
  }

  /** A job of the project that has not expired, or null. */
  async get(projectId: string, id: string, now: number): Promise<ExportJob | null> {
    const r = await this.db.selectFrom('exports').selectAll().where('id', '=', id).where('project_id', '=', projectId).where('expires_at', '>', now).executeTakeFirst();
    return r ? jobFromRow(r) : null;
  }

  /** The project's jobs that have not expired, newest first. */
  async list(projectId: string, now: number, limit: number, cursor?: string): Promise<Page<ExportJob>> {
    let q = this.db.selectFrom('exports').selectAll().where('project_id', '=', projectId).where('expires_at', '>', now).orderBy('id', 'desc').limit(limit + 1);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, jobFromRow);
  }

  /** A page of a deliveries job's rows, newest first, after (older than) `after`. */
  async deliveryPage(job: ExportJob, match: DeliveryFilter, after: string | null, limit: number): Promise<Delivery[]> {
    if (job.lastId === null) return [];
    let q = whereDelivery(this.db.selectFrom('deliveries').selectAll(), job.projectId, match).where('id', '<=', job.lastId).orderBy('id', 'desc').limit(limit);
    if (after !== null) q = q.where('id', '<', after);
    return (await q.execute()).map(deliveryFromRow);
  }

  /** A page of an inbound-events job's rows (each with its forwarding delivery), newest first. */
  async inboundEventPage(job: ExportJob, match: InboundEventFilter, after: string | null, limit: number): Promise<InboundEvent[]> {
    if (job.lastId === null) return [];
    let q = whereInboundEvent(this.db.selectFrom('messages').selectAll(), job.projectId, match).where('id', '<=', job.lastId).orderBy('id', 'desc').limit(limit);
    if (after !== null) q = q.where('id', '<', after);
    return this.inboundEvents.withDeliveries(await q.execute());
  }
}
