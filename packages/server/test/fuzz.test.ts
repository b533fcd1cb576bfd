/**
 * Property-based fuzzing (fast-check) of every route the app serves (DESIGN.md §3). The routes are
 * read from the app itself (Fastify's route table) and their schemas from GET /openapi.json; valid
 * inputs are derived from each schema and then mutated: fields dropped, wrong types, unknown
 * fields, huge strings, deep nesting, unicode, NUL, numbers out of range, broken JSON, existing and
 * garbage ids, random query strings and headers. The ingest route POST /in/:id gets random bodies
 * of any content type with valid, stale, wrong and missing signatures, and a raw-socket property
 * sends malformed HTTP framing. Properties:
 *  - never a 5xx (the ingest route's 503 endpoint_paused excepted) and never a hang;
 *  - every error is {"error":{"code","message"[,"details"]}} with a known code and its own status;
 *  - the server still answers /healthz and valid requests afterwards, and the heap after GC stays
 *    within a bound across the run.
 *
 * Size: HOOKBRIDGE_FUZZ_RUNS API requests (default 1500), half as many ingest requests and a tenth
 * as many raw ones; HOOKBRIDGE_FUZZ_SEED replays a run. Figures: test-results/figures/fuzz-<store>.json (docs/RELIABILITY.md).
 *
 * Traffic never leaves loopback: the injected resolver answers every name with 127.0.0.1, and an
 * http(s) URL in a body is pointed at the loopback receiver before it is sent (`loopbackOnly`).
 *
 * This file holds the setup and the properties; test/fuzz/ holds what they are made of: the oracle
 * (what a conforming answer is), the generators, the senders, the seed objects and the shared state.
 */
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../src/api/app.js';
import { ADMIN_KEY, startReceiver, startTestServer, waitUntil } from './helpers.js';
import { writeFigures } from './figures.js';
import { TEST_STORE } from './postgres.js';
import type { Param, Route, Schema } from './fuzz/arbitraries.js';
import { describeRequest, MAX_PAYLOAD, problemWith } from './fuzz/oracle.js';
import { ingestArb, rawArb, requestArb } from './fuzz/requests.js';
import { ctx, heapSamples, ingestTargets, stats, tally } from './fuzz/state.js';
import { afterRequest, seed, SIGNERS } from './fuzz/targets.js';
import { exchange, gc, sampleMemory, send, sendAndCheck, sendRaw } from './fuzz/transport.js';

const RUNS = Math.max(1, Number(process.env.HOOKBRIDGE_FUZZ_RUNS ?? 1500));
const SEED = process.env.HOOKBRIDGE_FUZZ_SEED !== undefined ? Number(process.env.HOOKBRIDGE_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** The heap after GC may grow by this much over the run (warm caches, compiled schemas); about 5 MiB is usual. */
const HEAP_GROWTH_BOUND = 32 * 1024 * 1024;

// --- setup ----------------------------------------------------------------------------------------

let routes: Route[] = [];
let allRoutes: Array<{ path: string; methods: string[] }> = [];
const started = Date.now();

beforeAll(async () => {
  ctx.receiver = await startReceiver();
  ctx.receiver.handle((req, res) => res.writeHead(req.url.includes('fail') ? 500 : 200).end('ok'));
  // Every name is loopback: no DNS query and no connection leaves the machine.
  ctx.server = await startTestServer({}, { resolver: async () => [{ address: '127.0.0.1', family: 4 }] });
  ctx.agent = new Agent({ connections: 4, headersTimeout: 15_000, bodyTimeout: 15_000, keepAliveTimeout: 2000 });
  await seed();

  const doc = (await ctx.server.api.get('/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema: Schema }> } }>> };
  // The app's own route table (its onRoute hook), grouped by path; schemas from the OpenAPI document.
  const byPath = new Map<string, string[]>();
  for (const r of routesOf(ctx.server.app)) byPath.set(r.url, [...(byPath.get(r.url) ?? []), r.method]);
  allRoutes = [...byPath].map(([p, methods]) => ({ path: p, methods: methods.includes('GET') ? [...methods, 'HEAD'] : methods }));
  routes = allRoutes
    // Ingest has a property of its own; the console's pages (api/console.ts) answer HTML, not the JSON API.
    .filter((r) => r.path !== '/in/:id' && !['/', '/portal/:projectId', '/assets/*'].includes(r.path))
    .map((r) => {
      const ops = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')] ?? {};
      const op = r.methods.map((m) => ops[m.toLowerCase()]).find((o) => o?.requestBody) ?? r.methods.map((m) => ops[m.toLowerCase()]).find(Boolean);
      return { path: r.path, methods: r.methods, params: op?.parameters ?? [], body: op?.requestBody?.content?.['application/json']?.schema };
    });
}, 60_000);

afterAll(async () => {
  await ctx.agent?.close();
  await ctx.server?.close();
  await ctx.receiver?.close();
});

// --- the properties -------------------------------------------------------------------------------

const params = (numRuns: number) => ({ numRuns, seed: SEED });

describe.sequential('fuzz', () => {
  it('enumerates the routes from the app, with their schemas from /openapi.json', () => {
    expect(routes.length).toBeGreaterThanOrEqual(35);
    // Every route with a body in the OpenAPI document got its schema.
    for (const p of ['/v1/endpoints', '/v1/messages', '/v1/inbound-endpoints', '/v1/deliveries/replay', '/v1/projects/:id']) expect(routes.find((r) => r.path === p)?.body, p).toBeDefined();
    expect(allRoutes.some((r) => r.path === '/in/:id')).toBe(true);
  });

  it('JSON API: no 5xx, and every error is {"error":{code,message}} with a known code', async () => {
    console.log(`fuzz: seed ${SEED} (HOOKBRIDGE_FUZZ_SEED=${SEED} replays this run), ${routes.length} routes, store ${TEST_STORE}`);
    const perRoute = routes.map((r) => [r, requestArb(r)] as const);
    // One pass over every route first (so each is covered whatever the run count); then the heap baseline.
    for (const [i, [, arb]] of perRoute.entries()) {
      for (const r of fc.sample(arb, { numRuns: 3, seed: SEED + i })) {
        stats.api++;
        await afterRequest(r, await sendAndCheck(r, false));
      }
    }
    sampleMemory();
    const any = fc.constantFrom(...perRoute.map(([, a]) => a)).chain((a) => a);
    await fc.assert(
      fc.asyncProperty(any, async (r) => {
        stats.api++;
        const res = await sendAndCheck(r, false);
        await afterRequest(r, res);
        if (stats.api % 400 === 0) sampleMemory();
      }),
      params(RUNS),
    );
    for (const r of routes) expect(stats.byRoute[r.path], r.path).toBeGreaterThan(0);
  }, 240_000);

  it('POST /in/:id: no 5xx but endpoint_paused; refusals carry their reason; valid signatures are accepted', async () => {
    await fc.assert(
      fc.asyncProperty(ingestArb(), async ({ request: r, target, signed, size }) => {
        stats.ingest++;
        const res = await sendAndCheck(r, true);
        if (res.status === 0) return; // cut off after a 413 for a body far over the limit
        const code = res.status >= 400 ? (JSON.parse(res.body.toString('utf8')) as { error: { code: string } }).error.code : null;
        const what = `${res.status} ${res.body.toString('utf8').slice(0, 200)}\n${describeRequest(r)}`;
        const kind = target?.kind.split(':')[0];
        // An unknown id may be refused before or after its body is found too large; a broken escape
        // is a 400; a path that is no /in/<id> once normalised (/in/.., /in/a/b) is an unknown
        // route, 401 without a key.
        const unknown = [400, 401, 404, ...(size > MAX_PAYLOAD ? [413] : [])];
        if (!target || target.kind === 'none:deleted') expect(unknown, what).toContain(res.status);
        else if (size > MAX_PAYLOAD) expect(res.status, what).toBe(413);
        else if (target.paused) expect(code, what).toBe('endpoint_paused');
        else if (!target.open) expect(code, what).toBe('ip_not_allowed');
        else if (kind === 'none' || signed === 'valid' || (signed === 'stale' && !SIGNERS[kind!].timestamped)) {
          // Accepted: the configured 2xx, or Slack's URL check answered with its challenge.
          const challenge = kind === 'slack' && res.status === 200 && /"type":"url_verification"/.test(r.body!.toString('utf8'));
          expect(challenge || res.status === target.acceptStatus, `expected ${target.acceptStatus}, got ${what}`).toBe(true);
        } else {
          expect(res.status, what).toBe(401);
          if (signed === 'stale') expect(code, what).toBe('timestamp_out_of_range');
        }
        if (stats.ingest % 400 === 0) sampleMemory();
      }),
      params(Math.ceil(RUNS / 2)),
    );
  }, 240_000);

  it('raw HTTP framing: every answer is a well-formed error or success, nothing hangs, no connection is left open', async () => {
    const connections = () => new Promise<number>((resolve) => ctx.server.app.server.getConnections((_err, n) => resolve(n)));
    const before = await connections();
    await fc.assert(
      fc.asyncProperty(rawArb(routes), async (c) => {
        stats.raw++;
        const { res, data, timedOut } = await sendRaw(c.bytes, c.incomplete);
        const problem = res && res.status !== 101 ? problemWith(res, c.method, c.ingest) : null;
        tally('(raw)', res?.status ?? (timedOut ? 'timeout' : 'closed'), problem);
        if (!res) {
          if (c.incomplete && !timedOut) return;
          throw new Error(`${timedOut ? 'no answer within 10 s' : 'connection closed without an answer'} (${JSON.stringify(data.toString('latin1').slice(0, 200))}) to\n${c.text}`);
        }
        if (problem) throw new Error(`${problem}\nfor\n${c.text}`);
      }),
      params(Math.ceil(RUNS / 10)),
    );
    // Every raw connection was closed by the client; the server must have let go of each one too.
    let after = before;
    await waitUntil(async () => (after = await connections()) <= before, 5000, 'the raw connections to close').catch(() => undefined);
    expect(after, 'server-side connections left open by raw requests').toBeLessThanOrEqual(before);
  }, 240_000);

  it('afterwards: /healthz and valid requests are served, the heap after GC is bounded, figures are written', async () => {
    expect((await fetch(`${ctx.server.url}/healthz`)).status).toBe(200);
    const ep = await ctx.server.api.post('/v1/endpoints', { url: ctx.receiver.url });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    expect((await ctx.server.api.get(`/v1/endpoints/${ep.body.id}`)).status).toBe(200);
    const m = await ctx.server.api.post('/v1/messages', { event_type: 'fuzz.after', payload: { ok: true }, endpoint_id: ep.body.id });
    expect(m.status, JSON.stringify(m.body)).toBe(202);
    const stripe = ingestTargets.find((t) => t.kind === 'stripe')!;
    const body = Buffer.from('{"id":"evt_after","type":"after"}');
    const { headers } = stripe.sign(body, Math.floor(Date.now() / 1000), true);
    const ingest = await send({ route: '/in/:id', method: 'POST', path: `/in/${stripe.id}`, headers: [...headers, 'content-type', 'application/json'], body });
    expect(ingest.status).toBe(202);

    sampleMemory();
    const growth = (heapSamples[heapSamples.length - 1].heap_mib - heapSamples[0].heap_mib) * 1048576;
    const requests = stats.api + stats.ingest + stats.raw;
    const heapGrowthMib = Math.round((growth / 1048576) * 10) / 10;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    writeFigures('fuzz', {
      seed: SEED,
      runs_setting: RUNS,
      requests,
      api_requests: stats.api,
      ingest_requests: stats.ingest,
      raw_requests: stats.raw,
      five_xx: stats.fiveXx,
      routes_fuzzed: Object.keys(stats.byRoute).filter((r) => r !== '(raw)').length,
      by_status: stats.byStatus,
      memory_measure: gc ? 'heapUsed after gc()' : 'rss',
      heap_growth_mib: heapGrowthMib,
      seconds,
    });
    expect(stats.fiveXx).toBe(0);
    expect(growth).toBeLessThan(gc ? HEAP_GROWTH_BOUND : 4 * HEAP_GROWTH_BOUND);
  }, 60_000);
});

// --- the defects the fuzzer found, each pinned down -----------------------------------------------

/** A stripe-signed ingest request to the stripe target. */
async function ingestSigned(body: Buffer, headers: string[] = []) {
  const stripe = ingestTargets.find((t) => t.kind === 'stripe')!;
  const signed = stripe.sign(body, Math.floor(Date.now() / 1000), true);
  return send({ route: '/in/:id', method: 'POST', path: `/in/${stripe.id}`, headers: [...signed.headers, ...headers], body });
}

describe.sequential('regressions: the defects the fuzzer found', () => {
  it('ingest takes a Content-Type that is no valid media type ("", "json", ";"): it is kept, not answered 415', async () => {
    for (const contentType of ['', 'json', ';', 'application/json, text/plain']) {
      const res = await ingestSigned(Buffer.from(`{"id":"evt_ct_${contentType.length}"}`), ['content-type', contentType]);
      expect(res.status, `${JSON.stringify(contentType)}: ${res.body.toString('utf8')}`).toBe(202);
      const event = await ctx.ingestApi.get(`/v1/inbound-events/${(JSON.parse(res.body.toString('utf8')) as { id: string }).id}`);
      expect(event.body.headers['content-type']).toBe(contentType);
    }
  });

  it('an HTTP/1.1 request without Host is refused in the error shape (Node answered an empty 400)', async () => {
    const { res } = await exchange('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(res?.status).toBe(400);
    expect(problemWith(res!, 'GET', false)).toBeNull();
    // HTTP/1.0 needs no Host.
    expect((await exchange('GET /healthz HTTP/1.0\r\n\r\n')).res?.status).toBe(200);
  });

  it('an Expect other than 100-continue is ignored (Node answered an empty 417)', async () => {
    const host = new URL(ctx.server.url).host;
    const { res } = await exchange(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nExpect: bogus\r\nConnection: close\r\n\r\n`);
    expect(res?.status).toBe(200);
  });

  it('an upgrade ws cannot take (h2c, no key, POST) is a 400 in the error shape, and its socket is closed', async () => {
    const host = new URL(ctx.server.url).host;
    for (const [target, extra] of [
      ['/healthz', 'Upgrade: h2c'],
      ['/v1/endpoints', 'Upgrade: websocket'],
      ['/v1/endpoints', 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short'],
    ]) {
      const { res, closedByServer } = await exchange(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\n${extra}\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n\r\n`);
      expect(res?.status, extra).toBe(400);
      expect(problemWith(res!, 'GET', false), extra).toBeNull();
      expect(closedByServer, extra).toBe(true);
    }
  });

  it('an upgrade answered before routing (bad URL, no Host) has its socket closed (it stayed open and blocked shutdown)', async () => {
    const host = new URL(ctx.server.url).host;
    for (const head of [`GET /% HTTP/1.1\r\nHost: ${host}`, `GET /v1/endpoints/${'x'.repeat(300)} HTTP/1.1\r\nHost: ${host}`, 'GET /healthz HTTP/1.1']) {
      const { res, closedByServer } = await exchange(`${head}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
      expect(res && res.status >= 400 && problemWith(res, 'GET', false), head).toBeNull();
      expect(closedByServer, head).toBe(true);
    }
  });

  it('NUL (U+0000) in ids, filters and text fields: PostgreSQL text cannot hold it, so 400, never 500', async () => {
    const pg = TEST_STORE === 'postgres';
    const lookup = await ctx.server.api.get('/v1/endpoints/ep_x%00');
    expect(lookup.status).toBe(pg ? 400 : 404);
    expect((await ctx.server.api.get('/v1/messages?consumer_id=a%00b')).status).toBe(pg ? 400 : 200);
    const created = await ctx.server.api.post('/v1/endpoints', { url: ctx.receiver.url, description: 'a\u0000b' });
    expect(created.status, JSON.stringify(created.body)).toBe(pg ? 400 : 201);
    if (pg) expect(created.body.error.code).toBe('invalid_request');
  });

  it('ingest keeps a body with NUL bytes (as base64) and NUL in the id and type it reads from the body', async () => {
    const bytes = Buffer.from('{"id":"evt_nul","x":"\u0000"}\u0000tail');
    const res = await ingestSigned(bytes);
    expect(res.status, res.body.toString('utf8')).toBe(202);
    const event = await ctx.ingestApi.get(`/v1/inbound-events/${(JSON.parse(res.body.toString('utf8')) as { id: string }).id}`);
    expect(event.body.body_encoding).toBe('base64');
    expect(Buffer.from(event.body.body, 'base64').equals(bytes)).toBe(true);
    const typed = await ingestSigned(Buffer.from(JSON.stringify({ id: 'evt_\u0000', type: 'charge.\u0000' })));
    expect(typed.status, typed.body.toString('utf8')).toBe(202);
  });
});
