/**
 * Exports end to end (both stores): POST /v1/exports → GET /v1/exports/{id} → download, for
 * deliveries and inbound events, CSV and NDJSON. The files are checked against what the list
 * routes answer (same ids, same order, same JSON), CSV is read back with an RFC 4180 reader
 * written from the RFC (test/csv.ts), and the snapshot, filters, expiry and tenancy rules hold.
 * Each test works in a project of its own, so counts are exact.
 */
import { describe, expect, it } from 'vitest';
import { csvObjects } from './csv.js';
import { createProject, expectApiError, useServer, waitUntil, type ApiResponse, type Client, type TestProject } from './helpers.js';
import { newDeliveryRow } from '../src/store/rows.js';

const ctx = useServer();

/** Every item of a list route, newest first, as the API pages it. */
async function listAll(api: Client, path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api.get(`${path}${sep}limit=250${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

async function makeExport(api: Client, body: unknown): Promise<any> {
  const res = await api.post('/v1/exports', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function download(api: Client, id: string): Promise<{ text: string; headers: Headers; status: number }> {
  const res = await fetch(`${api.baseUrl}/v1/exports/${id}/download`, { headers: { authorization: `Bearer ${api.key}` } });
  return { text: await res.text(), headers: res.headers, status: res.status };
}

const ndjson = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n').map((l) => JSON.parse(l)));

/** A JSON value as the CSV writes it (null empty, formulas quoted), to compare CSV with JSON. */
function asCsvText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The consumer id every tricky CSV field uses: a formula, quotes, commas, CR LF and a lone LF. */
const TRICKY = '=HYPERLINK("http://evil.example","x"), "quoted",\r\nsecond line\nthird';

async function settledDeliveries(p: TestProject, count: number): Promise<any[]> {
  let all: any[] = [];
  await waitUntil(async () => {
    all = await listAll(p.api, '/v1/deliveries');
    return all.length === count && all.every((d) => d.status === 'succeeded' || d.status === 'pending_retry');
  }, 20_000, `${count} settled deliveries`);
  return all;
}

/** A project with deliveries to two endpoints (one of them failing, one with a tricky consumer id), all settled. */
async function projectWithDeliveries(name: string) {
  const p = await createProject(ctx.api, name);
  const ok = await ctx.receiver();
  const failing = await ctx.receiver();
  failing.respondWith(500);
  const plain = (await p.api.post('/v1/endpoints', { url: ok.url })).body;
  const tricky = (await p.api.post('/v1/endpoints', { url: failing.url, consumer_id: TRICKY, retry_schedule: [3600] })).body;
  const sent: any[] = [];
  for (let i = 0; i < 4; i++) sent.push((await p.api.post('/v1/messages', { event_type: i % 2 ? 'order.paid' : 'order.created', payload: { i }, endpoint_id: plain.id })).body);
  for (let i = 0; i < 3; i++) sent.push((await p.api.post('/v1/messages', { event_type: 'invoice.due', payload: { i }, consumer_id: TRICKY })).body);
  const deliveries = await settledDeliveries(p, 7);
  return { p, plain, tricky, sent, deliveries };
}

describe('exports', () => {
  it('deliveries: the NDJSON file is exactly the list (same rows, order and JSON); CSV reads back to the same values', async () => {
    const { p, deliveries } = await projectWithDeliveries('export-deliveries');
    for (const format of ['ndjson', 'csv']) {
      const job = await makeExport(p.api, { kind: 'deliveries', format });
      expect(job).toMatchObject({ id: expect.stringMatching(/^exp_/), kind: 'deliveries', format, filters: {}, status: 'ready', row_count: 7, error: null });
      expect(Date.parse(job.expires_at) - Date.parse(job.created_at)).toBe(24 * 3600_000);
      expect((await p.api.get(`/v1/exports/${job.id}`)).body).toEqual(job);

      const file = await download(p.api, job.id);
      expect(file.status).toBe(200);
      expect(file.headers.get('x-hookbridge-row-count')).toBe('7');
      expect(file.headers.get('content-disposition')).toBe(`attachment; filename="hookbridge-deliveries-${job.id}.${format}"`);
      if (format === 'ndjson') {
        expect(file.headers.get('content-type')).toBe('application/x-ndjson');
        expect(ndjson(file.text)).toEqual(deliveries);
      } else {
        expect(file.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
        const { header, rows } = csvObjects(file.text);
        expect(header).toEqual(Object.keys(deliveries[0]));
        expect(rows).toEqual(deliveries.map((d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, asCsvText(v)]))));
        // The tricky consumer id came through whole, defused as text.
        expect(rows.filter((r) => r.consumer_id === `'${TRICKY}`)).toHaveLength(3);
      }
    }
  });

  it('filters are those of GET /v1/deliveries and select the same rows', async () => {
    const { p, plain, tricky, sent, deliveries } = await projectWithDeliveries('export-filters');
    const middle = deliveries[3].created_at;
    const cases: Array<Record<string, string>> = [
      { status: 'pending_retry' },
      { status: 'succeeded', event_type: 'order.paid' },
      { endpoint_id: plain.id },
      { endpoint_id: tricky.id, status: 'succeeded' },
      { message_id: sent[1].id },
      { consumer_id: TRICKY },
      { since: middle },
      { until: middle },
    ];
    for (const filters of cases) {
      const listed = await listAll(p.api, `/v1/deliveries?${new URLSearchParams(filters)}`);
      const job = await makeExport(p.api, { kind: 'deliveries', format: 'ndjson', filters });
      expect(job.filters).toEqual(filters);
      expect(job.row_count, JSON.stringify(filters)).toBe(listed.length);
      expect(ndjson((await download(p.api, job.id)).text), JSON.stringify(filters)).toEqual(listed);
    }
    // The cases select different rows, so a filter that was ignored would show.
    expect(new Set(cases.map((c) => JSON.stringify(deliveries.filter((d) => matchesCase(d, c, sent)).map((d) => d.id)))).size).toBeGreaterThan(5);
  });

  it('the snapshot: rows created after the job stay out of its file; a new job has them', async () => {
    const { p, plain, deliveries } = await projectWithDeliveries('export-snapshot');
    const job = await makeExport(p.api, { kind: 'deliveries', format: 'csv' });
    for (let i = 0; i < 3; i++) await p.api.post('/v1/messages', { event_type: 'late.one', payload: { i }, endpoint_id: plain.id });
    const after = await settledDeliveries(p, 10);
    const file = await download(p.api, job.id);
    expect(file.headers.get('x-hookbridge-row-count')).toBe('7');
    expect(csvObjects(file.text).rows.map((r) => r.id)).toEqual(deliveries.map((d) => d.id));
    const again = await makeExport(p.api, { kind: 'deliveries', format: 'csv' });
    expect(again.row_count).toBe(10);
    expect(csvObjects((await download(p.api, again.id)).text).rows.map((r) => r.id)).toEqual(after.map((d) => d.id));
  });

  it('a file of many pages: every row once, in the list order', async () => {
    const p = await createProject(ctx.api, 'export-pages');
    const r = await ctx.receiver();
    const ep = (await p.api.post('/v1/endpoints', { url: r.url })).body;
    const msg = (await p.api.post('/v1/messages', { event_type: 'bulk.seed', payload: {}, endpoint_id: ep.id })).body;
    await settledDeliveries(p, 1);
    // 2,600 more deliveries of that message, written straight into the store (the API would take minutes).
    const now = Date.now();
    const rows = Array.from({ length: 2600 }, (_, i) => ({
      ...newDeliveryRow({ projectId: p.projectId, messageId: msg.id, endpointId: ep.id, consumerId: null, eventType: 'bulk.seed', status: i % 3 ? 'succeeded' : 'failed', nextAttemptAt: null }, now + i),
      last_error: i % 7 === 0 ? `line one\r\nline "two", ${i}` : null,
    }));
    for (let i = 0; i < rows.length; i += 500) await ctx.server.store.db.insertInto('deliveries').values(rows.slice(i, i + 500)).execute();
    const listed = await listAll(p.api, '/v1/deliveries');
    expect(listed).toHaveLength(2601);

    const nd = await makeExport(p.api, { kind: 'deliveries', format: 'ndjson' });
    expect(nd.row_count).toBe(2601);
    expect(ndjson((await download(p.api, nd.id)).text)).toEqual(listed);
    const failed = await makeExport(p.api, { kind: 'deliveries', format: 'csv', filters: { status: 'failed' } });
    const failedListed = listed.filter((d) => d.status === 'failed');
    expect(failed.row_count).toBe(failedListed.length);
    expect(csvObjects((await download(p.api, failed.id)).text).rows.map((x) => [x.id, x.last_error])).toEqual(failedListed.map((d) => [d.id, d.last_error ?? '']));
  });

  it('inbound events: NDJSON is the list; CSV carries bodies with quotes, commas, line breaks and formulas; the endpoint filter applies', async () => {
    const p = await createProject(ctx.api, 'export-inbound');
    const dest = await ctx.receiver();
    const forward = (await p.api.post('/v1/inbound-endpoints', { name: 'fwd', mode: 'forward', destination_url: dest.url, verification: { type: 'none' } })).body;
    const pull = (await p.api.post('/v1/inbound-endpoints', { name: 'pull', mode: 'pull', verification: { type: 'none' } })).body;
    const bodies = ['{"plain":true}', '=cmd|" /C calc"!A0', 'a,b,"c"\r\nnext line\nlast', '@SUM(1+1)', '-1+2'];
    for (let i = 0; i < 24; i++) {
      const ep = i % 2 ? pull : forward;
      const res = await fetch(ep.ingest_url, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-note': `n,"${i}"` }, body: bodies[i % bodies.length] });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }
    // Binary bodies are kept as base64 (body_encoding).
    await fetch(pull.ingest_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([0xff, 0xfe, 0x00, 0x2c]) });
    await waitUntil(async () => (await listAll(p.api, '/v1/inbound-events')).every((e) => e.delivery === null || e.delivery.status === 'succeeded'), 20_000, 'forwards to finish');
    const events = await listAll(p.api, '/v1/inbound-events');
    expect(events).toHaveLength(25);

    const nd = await makeExport(p.api, { kind: 'inbound-events', format: 'ndjson' });
    expect(nd.row_count).toBe(25);
    expect(ndjson((await download(p.api, nd.id)).text)).toEqual(events);

    const csv = await makeExport(p.api, { kind: 'inbound-events', format: 'csv' });
    const file = await download(p.api, csv.id);
    expect(file.headers.get('content-disposition')).toContain(`hookbridge-inbound-events-${csv.id}.csv`);
    const { header, rows } = csvObjects(file.text);
    // Every field of the API's JSON has its column (the delivery's as delivery_…).
    const fields = [...new Set(events.flatMap((e) => Object.keys(e)))].filter((k) => k !== 'delivery');
    expect(header.filter((h) => !h.startsWith('delivery_')).sort()).toEqual(fields.sort());
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
    rows.forEach((row, i) => {
      const e = events[i];
      for (const f of fields) expect(row[f], f).toBe(asCsvText(e[f]));
      expect(JSON.parse(row.headers)).toEqual(e.headers);
      expect(row.delivery_id).toBe(e.delivery?.id ?? '');
      expect(row.delivery_status).toBe(e.delivery?.status ?? '');
    });
    expect(rows.filter((r) => r.body === `'=cmd|" /C calc"!A0`).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.body === 'a,b,"c"\r\nnext line\nlast').length).toBeGreaterThan(0);

    const onlyPull = await makeExport(p.api, { kind: 'inbound-events', format: 'ndjson', filters: { inbound_endpoint_id: pull.id } });
    const pulled = await listAll(p.api, `/v1/inbound-events?inbound_endpoint_id=${pull.id}`);
    expect(pulled).toHaveLength(13);
    expect(onlyPull.row_count).toBe(13);
    expect(ndjson((await download(p.api, onlyPull.id)).text)).toEqual(pulled);
  });

  it('an export with no matching rows is a header alone (CSV) or an empty file (NDJSON)', async () => {
    const p = await createProject(ctx.api, 'export-empty');
    const csv = await makeExport(p.api, { kind: 'deliveries', format: 'csv', filters: { status: 'failed' } });
    expect(csv.row_count).toBe(0);
    const file = await download(p.api, csv.id);
    expect(file.headers.get('x-hookbridge-row-count')).toBe('0');
    expect(csvObjects(file.text)).toMatchObject({ header: expect.arrayContaining(['id', 'status']), rows: [] });
    const nd = await makeExport(p.api, { kind: 'inbound-events', format: 'ndjson' });
    expect((await download(p.api, nd.id)).text).toBe('');
  });

  it('refuses unknown kinds, formats and filters, and filters of the other kind (400)', async () => {
    const p = await createProject(ctx.api, 'export-invalid');
    expectApiError(await p.api.post('/v1/exports', { kind: 'messages', format: 'csv' }), 400, 'invalid_request');
    expectApiError(await p.api.post('/v1/exports', { kind: 'deliveries', format: 'xlsx' }), 400, 'invalid_request');
    expectApiError(await p.api.post('/v1/exports', { kind: 'deliveries', format: 'csv', filters: { colour: 'red' } }), 400, 'invalid_request');
    expectApiError(await p.api.post('/v1/exports', { kind: 'deliveries', format: 'csv', filters: { status: 'lost' } }), 400, 'invalid_request');
    expectApiError(await p.api.post('/v1/exports', { kind: 'deliveries', format: 'csv', filters: { since: 'yesterday' } }), 400, 'invalid_request');
    const wrongKind = await p.api.post('/v1/exports', { kind: 'deliveries', format: 'csv', filters: { inbound_endpoint_id: 'in_1' } });
    expectApiError(wrongKind, 400, 'invalid_request');
    expect(wrongKind.body.error.details).toEqual([expect.objectContaining({ field: 'filters.inbound_endpoint_id' })]);
    expectApiError(await p.api.post('/v1/exports', { kind: 'inbound-events', format: 'csv', filters: { status: 'failed' } }), 400, 'invalid_request');
    expect((await p.api.get('/v1/exports')).body.data).toEqual([]);
  });

  it("another project's job is 404 (read and download); lists show a project's own jobs, newest first", async () => {
    const a = await createProject(ctx.api, 'export-owner');
    const b = await createProject(ctx.api, 'export-other');
    const first = await makeExport(a.api, { kind: 'deliveries', format: 'csv' });
    const second = await makeExport(a.api, { kind: 'inbound-events', format: 'ndjson' });
    expectApiError(await b.api.get(`/v1/exports/${first.id}`), 404, 'not_found');
    const denied = await download(b.api, first.id);
    expect(denied.status).toBe(404);
    expect(JSON.parse(denied.text)).toMatchObject({ error: { code: 'not_found' } });
    expect((await b.api.get('/v1/exports')).body.data).toEqual([]);
    expect((await a.api.get('/v1/exports')).body).toEqual({ data: [second, first], has_more: false, next_cursor: null });
    const paged = (await a.api.get('/v1/exports?limit=1')).body;
    expect(paged).toMatchObject({ data: [second], has_more: true, next_cursor: second.id });
    expect((await a.api.get(`/v1/exports?limit=1&cursor=${paged.next_cursor}`)).body.data).toEqual([first]);
  });

  it('an expired job is 404 and gone from the list; a job not ready to download is 409', async () => {
    const p = await createProject(ctx.api, 'export-states');
    const expired = await makeExport(p.api, { kind: 'deliveries', format: 'csv' });
    const pending = await makeExport(p.api, { kind: 'deliveries', format: 'ndjson' });
    const db = ctx.server.store.db;
    await db.updateTable('exports').set({ expires_at: Date.now() - 1 }).where('id', '=', expired.id).execute();
    await db.updateTable('exports').set({ status: 'pending' }).where('id', '=', pending.id).execute();
    expectApiError(await p.api.get(`/v1/exports/${expired.id}`), 404, 'not_found');
    expect((await download(p.api, expired.id)).status).toBe(404);
    expect((await p.api.get('/v1/exports')).body.data.map((j: any) => j.id)).toEqual([pending.id]);
    expect((await p.api.get(`/v1/exports/${pending.id}`)).body.status).toBe('pending');
    const notReady = await download(p.api, pending.id);
    expect(notReady.status).toBe(409);
    expect(JSON.parse(notReady.text)).toMatchObject({ error: { code: 'invalid_state' } });
  });
});

/** Whether a delivery matches a filter case (to show the cases differ). */
function matchesCase(d: any, c: Record<string, string>, sent: any[]): boolean {
  return Object.entries(c).every(([k, v]) => {
    if (k === 'since') return d.created_at >= v;
    if (k === 'until') return d.created_at < v;
    if (k === 'message_id') return d.message_id === v && sent.some((m) => m.id === v);
    return d[k] === v;
  });
}
