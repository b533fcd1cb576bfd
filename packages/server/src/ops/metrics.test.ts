import { describe, expect, it } from 'vitest';
import type { Backlog } from '../store/metrics.js';
import { BACKLOG_CACHE_MS, Metrics } from './metrics.js';

const backlog = (due: number): Backlog => ({ due, scheduled: 1, delivering: 2, paused: 3, failed: 4, oldestDueAt: due > 0 ? Date.now() - 1500 : null });
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).replace(/^Nan$/, 'NaN'));
};

describe('Metrics', () => {
  it('reads the backlog at scrape time, once per cache period', async () => {
    const m = new Metrics();
    let reads = 0;
    m.watchBacklog(async () => backlog(++reads));
    const first = await m.scrape();
    const second = await m.scrape();
    expect(reads).toBe(1);
    expect(sample(first, 'hookbridge_backlog{state="due"}')).toBe(1);
    expect(sample(second, 'hookbridge_backlog{state="failed"}')).toBe(4);
    const age = sample(first, 'hookbridge_backlog_oldest_due_age_seconds')!;
    expect(age).toBeGreaterThan(1.4);
    expect(age).toBeLessThan(BACKLOG_CACHE_MS);
    await new Promise((r) => setTimeout(r, BACKLOG_CACHE_MS + 50));
    expect(sample(await m.scrape(), 'hookbridge_backlog{state="due"}')).toBe(2);
    expect(reads).toBe(2);
  });

  it('shows an unreadable backlog as NaN and still serves the rest', async () => {
    const m = new Metrics();
    m.watchBacklog(async () => {
      throw new Error('store down');
    });
    m.messageAccepted();
    const text = await m.scrape();
    expect(sample(text, 'hookbridge_backlog{state="due"}')).toBeNaN();
    expect(sample(text, 'hookbridge_backlog_oldest_due_age_seconds')).toBeNaN();
    expect(sample(text, 'hookbridge_messages_total')).toBe(1);
  });

  it('sorts store statements by their first keyword', async () => {
    const m = new Metrics();
    for (const sql of ['select 1', 'SELECT 2', 'insert into x', 'update x', 'delete from x', 'with c as (select 1) select 1', 'begin', 'selection', 'drop table x']) m.storeQuery(sql, 1);
    const text = await m.scrape();
    const count = (kind: string) => sample(text, `hookbridge_store_query_duration_seconds_count{kind="${kind}"}`);
    expect([count('select'), count('insert'), count('update'), count('delete'), count('other')]).toEqual([2, 1, 1, 1, 4]);
  });

  it('counts only final delivery statuses, and API requests by status class', async () => {
    const m = new Metrics();
    for (const s of ['succeeded', 'pending_retry', 'paused', 'failed', 'queued'] as const) m.deliveryFinished(s);
    m.deliveryFinished('cancelled', 3);
    m.httpRequest('GET', '/v1/x/:id', 204, 0.001);
    m.httpRequest('GET', '/v1/x/:id', 404, 0.001);
    m.httpRequest('GET', '/v1/x/:id', 503, 0.001);
    m.httpRequest('GET', undefined, 404, 0.001);
    const text = await m.scrape();
    expect(['succeeded', 'failed', 'cancelled'].map((s) => sample(text, `hookbridge_deliveries_total{status="${s}"}`))).toEqual([1, 1, 3]);
    expect(text).not.toContain('status="pending_retry"');
    const http = (route: string, c: string) => sample(text, `hookbridge_http_request_duration_seconds_count{method="GET",route="${route}",status_class="${c}"}`);
    expect([http('/v1/x/:id', '2xx'), http('/v1/x/:id', '4xx'), http('/v1/x/:id', '5xx'), http('unmatched', '4xx')]).toEqual([1, 1, 1, 1]);
  });
});
