/**
 * The client's transport rules with an injected fetch: retries (which requests, which answers,
 * how long), errors, timeouts, URLs. No network at all; the real server is in server.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HookbridgeApiError, HookbridgeClient, HookbridgeNetworkError, SDK_VERSION } from '../src/index.js';
import { parseRetryAfter, retryDelayMs } from '../src/retry.js';

const BASE = 'http://127.0.0.1:9';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that answers from a script, one entry per call (the last one repeats). */
function scripted(...answers: Array<Response | Error | (() => Response | Promise<Response>)>) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), method: init?.method ?? 'GET', headers: init?.headers as Record<string, string>, body: init?.body as string | undefined });
    const next = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next.clone();
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const unavailable = () => json(503, { error: { code: 'store_unavailable', message: 'the store is unreachable' } }, { 'retry-after': '0' });

describe('HookbridgeClient transport', () => {
  it('retries a GET that failed twice with 503, then returns the JSON', async () => {
    const f = scripted(unavailable(), unavailable(), json(200, { id: 'ep_1' }));
    const client = new HookbridgeClient({ baseUrl: BASE, apiKey: 'hb_test_x', fetch: f.fetch });
    expect(await client.endpoints.get('ep_1')).toEqual({ id: 'ep_1' });
    expect(f.calls).toHaveLength(3);
    expect(f.calls[0].headers.authorization).toBe('Bearer hb_test_x');
  });

  it('waits with exponential backoff and jitter without Retry-After, within bounds', async () => {
    expect(retryDelayMs(0, undefined, () => 0)).toBe(250);
    expect(retryDelayMs(0, undefined, () => 1)).toBe(500);
    expect(retryDelayMs(3, undefined, () => 0.5)).toBe(3000);
    expect(retryDelayMs(20, undefined, () => 1)).toBe(10_000);
    expect(retryDelayMs(0, 2000)).toBe(2000);
    expect(retryDelayMs(0, 120_000)).toBeUndefined();
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('honours Retry-After on 429 and gives up after maxRetries with the typed error', async () => {
    const limited = json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0.2' });
    const f = scripted(limited);
    const client = new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch, maxRetries: 2 });
    const started = Date.now();
    const err = await client.request('GET', '/v1/messages').catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(f.calls).toHaveLength(3);
    expect(err).toBeInstanceOf(HookbridgeApiError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', message: 'slow down', retryAfterSeconds: 0.2 });
  });

  it('does not retry a POST without an idempotency key', async () => {
    const f = scripted(unavailable());
    const client = new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch });
    await expect(client.messages.send({ event_type: 'a', payload: 1 })).rejects.toMatchObject({ status: 503, code: 'store_unavailable' });
    await expect(client.request('POST', '/v1/endpoints/ep_1/pause')).rejects.toBeInstanceOf(HookbridgeApiError);
    expect(f.calls).toHaveLength(2);
  });

  it('retries a POST with an Idempotency-Key header, or POST /v1/messages with idempotency_key in the body', async () => {
    const viaHeader = scripted(unavailable(), json(202, { id: 'msg_1' }));
    await new HookbridgeClient({ baseUrl: BASE, fetch: viaHeader.fetch }).messages.send({ event_type: 'a', payload: 1 }, { idempotencyKey: 'k1' });
    expect(viaHeader.calls).toHaveLength(2);
    expect(viaHeader.calls[1].headers['idempotency-key']).toBe('k1');

    const viaBody = scripted(new TypeError('fetch failed'), json(202, { id: 'msg_1' }));
    await new HookbridgeClient({ baseUrl: BASE, fetch: viaBody.fetch }).messages.send({ event_type: 'a', payload: 1, idempotency_key: 'k2' });
    expect(viaBody.calls).toHaveLength(2);
    expect(JSON.parse(viaBody.calls[1].body!)).toEqual({ event_type: 'a', payload: 1, idempotency_key: 'k2' });
  });

  it('turns no answer into HookbridgeNetworkError (retried for GET), with the cause kept', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const f = scripted(refused);
    const client = new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch, maxRetries: 1 });
    const err = (await client.request('GET', '/v1/endpoints').catch((e: unknown) => e)) as HookbridgeNetworkError;
    expect(err).toBeInstanceOf(HookbridgeNetworkError);
    expect(err.message).toBe('GET /v1/endpoints: fetch failed: ECONNREFUSED');
    expect(err.cause).toBe(refused);
    expect(f.calls).toHaveLength(2);
  });

  it('times out a try that gets no answer; a caller abort is passed through and not retried', async () => {
    const hang = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const client = new HookbridgeClient({ baseUrl: BASE, fetch: hang as typeof fetch, timeoutMs: 50, maxRetries: 0 });
    const err = await client.request('GET', '/v1/endpoints').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookbridgeNetworkError);
    expect((err as Error).message).toBe('GET /v1/endpoints: no answer within 50 ms');

    let calls = 0;
    const counting = (input: RequestInfo | URL, init?: RequestInit) => (calls++, hang(input, init));
    const patient = new HookbridgeClient({ baseUrl: BASE, fetch: counting as typeof fetch });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user left')), 20);
    await expect(patient.request('GET', '/v1/endpoints', { signal: ac.signal })).rejects.toThrow('user left');
    expect(calls).toBe(1);
  });

  it('builds URLs (base path kept, null/undefined query dropped), sends JSON, returns undefined for 204', async () => {
    const f = scripted(new Response(null, { status: 204 }), json(201, { id: 'ep_1' }));
    const client = new HookbridgeClient({ baseUrl: `${BASE}/hookbridge/`, fetch: f.fetch, userAgent: 'cli/1' });
    expect(await client.request('DELETE', '/v1/endpoints/a b', { query: { x: 1, y: undefined, z: null, w: false } })).toBeUndefined();
    expect(f.calls[0].url).toBe(`${BASE}/hookbridge/v1/endpoints/a b?x=1&w=false`);
    expect(f.calls[0].headers['user-agent']).toBe('cli/1');
    expect(f.calls[0].headers['content-type']).toBeUndefined();
    await client.endpoints.create({ url: 'http://127.0.0.1:1/hook' });
    expect(f.calls[1]).toMatchObject({ method: 'POST', url: `${BASE}/hookbridge/v1/endpoints`, body: '{"url":"http://127.0.0.1:1/hook"}' });
    expect(f.calls[1].headers['content-type']).toBe('application/json');
    await client.endpoints.delete('a/b').catch(() => undefined);
    expect(f.calls[2].url).toBe(`${BASE}/hookbridge/v1/endpoints/a%2Fb`);
  });

  it('makes a typed error from a body that is not the API error shape (a proxy answered)', async () => {
    const f = scripted(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'req_7' } }));
    const err = await new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch, maxRetries: 0 }).request('GET', '/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'http_502', requestId: 'req_7' });
    expect((err as Error).message).toContain('Bad gateway');
  });

  it("takes the request id from the error body when a proxy dropped the header", async () => {
    const body = JSON.stringify({ error: { code: 'not_found', message: 'no such endpoint', request_id: 'req_from_body' } });
    const f = scripted(new Response(body, { status: 404, headers: { 'content-type': 'application/json' } }));
    const err = await new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch, maxRetries: 0 }).request('GET', '/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: 'not_found', requestId: 'req_from_body' });
  });

  it('paginate follows next_cursor until has_more is false', async () => {
    const pages = [
      { data: [1, 2], has_more: true, next_cursor: 'c1' },
      { data: [3], has_more: true, next_cursor: 'c2' },
      { data: [4], has_more: false, next_cursor: null },
    ];
    const f = scripted(...pages.map((p) => json(200, p)));
    const seen: number[] = [];
    for await (const n of new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch }).paginate<number>('/v1/messages', { limit: 2, event_type: 'a' })) seen.push(n);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(f.calls.map((c) => new URL(c.url).search)).toEqual(['?limit=2&event_type=a', '?limit=2&event_type=a&cursor=c1', '?limit=2&event_type=a&cursor=c2']);
  });

  it('download: answers the Response at its headers, body unread; retries a 503 first; the timeout does not cover the body', async () => {
    // A body that arrives well after the client's timeout, and that an abort of the request cuts
    // (as fetch's would): only the wait for the headers may be bounded.
    const slowBody = (signal: AbortSignal) =>
      new Response(
        new ReadableStream({
          async start(c) {
            signal.addEventListener('abort', () => c.error(new Error('aborted')));
            c.enqueue(new TextEncoder().encode('id,status\r\n'));
            await new Promise((r) => setTimeout(r, 300));
            if (signal.aborted) return;
            c.enqueue(new TextEncoder().encode('dlv_1,failed\r\n'));
            c.close();
          },
        }),
        { status: 200, headers: { 'content-type': 'text/csv', 'x-hookbridge-row-count': '1' } },
      );
    const calls: Array<[string, string | undefined]> = [];
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push([new URL(String(input)).pathname, (init?.headers as Record<string, string>).authorization]);
      return calls.length === 1 ? unavailable() : slowBody(init!.signal!);
    }) as typeof globalThis.fetch;
    const client = new HookbridgeClient({ baseUrl: BASE, apiKey: 'hb_test_x', fetch, timeoutMs: 100 });
    const res = await client.exports.download('exp_1');
    expect(res.headers.get('x-hookbridge-row-count')).toBe('1');
    expect(await res.text()).toBe('id,status\r\ndlv_1,failed\r\n');
    expect(calls).toEqual([
      ['/v1/exports/exp_1/download', 'Bearer hb_test_x'],
      ['/v1/exports/exp_1/download', 'Bearer hb_test_x'],
    ]);
  });

  it('download: an API error is thrown as HookbridgeApiError, not handed back as a file', async () => {
    const f = scripted(json(409, { error: { code: 'invalid_state', message: 'the export is pending' } }));
    await expect(new HookbridgeClient({ baseUrl: BASE, fetch: f.fetch }).exports.download('exp_1')).rejects.toMatchObject({ status: 409, code: 'invalid_state' });
    expect(f.calls).toHaveLength(1);
  });

  it('SDK_VERSION is the package version', () => {
    expect(SDK_VERSION).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });
});
