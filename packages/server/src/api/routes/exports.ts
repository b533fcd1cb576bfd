/**
 * Exports of deliveries or inbound events as CSV or NDJSON. POST /v1/exports makes a job (the
 * matching rows are counted and bounded at once, store/exports.ts); GET …/download streams the
 * file from the database a page at a time, through a Readable whose backpressure follows the
 * client's reading, so a file of any size costs one page of memory.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ApiError, invalidRequest, invalidState } from '../../core/errors.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, EXPORT_KINDS, exportFileName, exportHeader, exportLine, type ExportFormat, type ExportKind } from '../../core/export-format.js';
import type { ExportJob } from '../../store/exports.js';
import type { DeliveryFilter, InboundEventFilter } from '../../store/list-filters.js';
import type { Store } from '../../store/store.js';
import type { RouteOptions } from '../app.js';
import { inboundEventJson } from '../inbound-schemas.js';
import { IdParams, ListOf, ListQuery, Nullable, Time, deliveryJson, errorResponses, iso, isoOrNull, listJson } from '../schemas.js';
import { DeliveryFilterFields, deliveryFilterOf } from './deliveries.js';
import { InboundEventFilterFields } from './inbound-events.js';

/** How long a job can be read and downloaded; the retention job deletes it later. */
export const EXPORT_TTL_MS = 24 * 3600_000;

const FILTERS_OF: Record<ExportKind, string[]> = {
  deliveries: Object.keys(DeliveryFilterFields),
  'inbound-events': Object.keys(InboundEventFilterFields),
};

const Filters = Type.Object(
  { ...DeliveryFilterFields, ...InboundEventFilterFields },
  { additionalProperties: false, description: 'deliveries: the filters of GET /v1/deliveries; inbound-events: those of GET /v1/inbound-events.' },
);
type FiltersBody = Static<typeof Filters>;

const ExportCreate = Type.Object(
  {
    kind: Type.Unsafe<ExportKind>({ type: 'string', enum: [...EXPORT_KINDS] }),
    format: Type.Unsafe<ExportFormat>({ type: 'string', enum: [...EXPORT_FORMATS] }),
    filters: Type.Optional(Filters),
  },
  { additionalProperties: false },
);

const ExportJson = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  format: Type.String(),
  filters: Type.Record(Type.String(), Type.String()),
  status: Type.Unsafe<ExportJob['status']>({ type: 'string', enum: ['pending', 'ready', 'failed'] }),
  row_count: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  created_at: Time,
  finished_at: Nullable(Time),
  expires_at: Time,
});


/** The job's filters (as the API took them) as store conditions. */
function matchOf(kind: ExportKind, filters: Record<string, string>): DeliveryFilter | InboundEventFilter {
  return kind === 'deliveries' ? deliveryFilterOf(filters as FiltersBody) : { inboundEndpointId: filters.inbound_endpoint_id };
}

function exportJson(j: ExportJob) {
  return {
    id: j.id,
    kind: j.kind,
    format: j.format,
    filters: j.filters,
    status: j.status,
    row_count: j.rowCount,
    error: j.error,
    created_at: iso(j.createdAt),
    finished_at: isoOrNull(j.finishedAt),
    expires_at: iso(j.expiresAt),
  };
}

/** Rows per query: the first page, and the most. Inbound events start small: each may hold a body up to the payload limit. */
const FIRST_PAGE: Record<ExportKind, number> = { deliveries: 1000, 'inbound-events': 10 };
const MAX_PAGE_ROWS = 1000;
/** Pages are sized to about this much text, whatever the rows weigh. */
const PAGE_TEXT = 1 << 20;

/** One page of the file: its text as bytes, how many rows it has and the last row's id. */
async function exportPage(store: Store, job: ExportJob, match: DeliveryFilter | InboundEventFilter, after: string | null, limit: number) {
  const rows: Array<{ id: string }> =
    job.kind === 'deliveries'
      ? (await store.exports.deliveryPage(job, match as DeliveryFilter, after, limit)).map(deliveryJson)
      : (await store.exports.inboundEventPage(job, match as InboundEventFilter, after, limit)).map((e) => inboundEventJson(e));
  let text = '';
  for (const row of rows) text += exportLine(job.kind, job.format, row);
  return { bytes: Buffer.from(text), count: rows.length, lastId: rows.length > 0 ? rows[rows.length - 1].id : null, chars: text.length };
}

/**
 * The file, a page of rows per chunk, newest first, in the API's JSON shape of each row. Pulled
 * only as the reply drains (Readable.from), and stopped when the client goes away. While it waits
 * for the client it holds the bytes of one page; the rows themselves live only in exportPage.
 */
async function* exportFile(store: Store, job: ExportJob): AsyncGenerator<Buffer> {
  const header = exportHeader(job.kind, job.format);
  if (header) yield Buffer.from(header);
  const match = matchOf(job.kind, job.filters);
  let after: string | null = null;
  let limit = FIRST_PAGE[job.kind];
  for (;;) {
    const page = await exportPage(store, job, match, after, limit);
    if (page.count === 0) return;
    yield page.bytes;
    if (page.count < limit) return;
    after = page.lastId;
    limit = Math.max(1, Math.min(MAX_PAGE_ROWS, Math.floor((limit * PAGE_TEXT) / Math.max(1, page.chars))));
  }
}

export const exportRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['exports'];

  const loadJob = async (projectId: string, id: string) => {
    const job = await store.exports.get(projectId, id, Date.now());
    if (!job) throw new ApiError('not_found', 'export not found (jobs expire 24 hours after they are made)');
    return job;
  };

  app.post(
    '/exports',
    {
      schema: {
        tags,
        description: 'Make an export job: the rows matching the filters now, newest first. Counted at once (status ready); download it within 24 hours.',
        body: ExportCreate,
        response: { 201: ExportJson, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { kind, format, filters = {} } = req.body;
      const foreign = Object.keys(filters).filter((k) => !FILTERS_OF[kind].includes(k));
      if (foreign.length > 0) {
        throw invalidRequest(
          `an export of ${kind} takes only the filters ${FILTERS_OF[kind].join(', ')}`,
          foreign.map((k) => ({ field: `filters.${k}`, in: 'body', message: `is not a filter of ${kind}` })),
        );
      }
      // Validated JSON: every key present has a value.
      const given = filters as Record<string, string>;
      const job = await store.exports.create({ projectId: req.auth.projectId, kind, format, filters: given, match: matchOf(kind, given), ttlMs: EXPORT_TTL_MS });
      return reply.status(201).send(exportJson(job));
    },
  );

  app.get('/exports', { schema: { tags, querystring: ListQuery, response: { 200: ListOf(ExportJson), ...errorResponses } } }, async (req) => {
    return listJson(await store.exports.list(req.auth.projectId, Date.now(), req.query.limit ?? 50, req.query.cursor), exportJson);
  });

  app.get('/exports/:id', { schema: { tags, params: IdParams, response: { 200: ExportJson, ...errorResponses } } }, async (req) => {
    return exportJson(await loadJob(req.auth.projectId, req.params.id));
  });

  app.get(
    '/exports/:id/download',
    {
      schema: {
        tags,
        params: IdParams,
        description: 'The file (CSV or NDJSON, by the job\'s format), streamed; x-hookbridge-row-count says how many rows were counted when the job was made.',
        response: {
          200: Type.Unsafe<Readable>({
            description: 'The export file',
            content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
          }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const job = await loadJob(req.auth.projectId, req.params.id);
      if (job.status !== 'ready') throw invalidState(`the export is ${job.status}; download it once it is ready`);
      void reply
        .header('content-type', EXPORT_CONTENT_TYPES[job.format])
        .header('content-disposition', `attachment; filename="${exportFileName(job.kind, job.format, job.id)}"`)
        .header('x-hookbridge-row-count', String(job.rowCount ?? 0));
      return reply.send(Readable.from(exportFile(store, job), { objectMode: false, highWaterMark: 64 * 1024 }));
    },
  );
};
