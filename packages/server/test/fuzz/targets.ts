/**
 * What the fuzzer aims at: the objects seed() creates before the run (endpoints, messages, inbound
 * endpoints, a second tenant), the ingest targets with the signer of each provider preset, and
 * afterRequest, which harvests the ids the server hands out and keeps its state in check.
 */
import { createHmac } from 'node:crypto';
import { createProject, waitUntil, type Client } from '../helpers.js';
import type { FuzzRequest, FuzzResponse } from './oracle.js';
import { ctx, harvest, ingestTargets, pool, remember, seedEndpoints, stats, untouchable, type IngestTarget } from './state.js';

const hmacHex = (key: string | Buffer, ...parts: Array<string | Buffer>) => parts.reduce((h, p) => h.update(p), createHmac('sha256', key)).digest('hex');
const hmacB64 = (key: string | Buffer, ...parts: Array<string | Buffer>) => parts.reduce((h, p) => h.update(p), createHmac('sha256', key)).digest('base64');
const SECRET = 'fuzz-secret-0123456789';
const STANDARD_SECRET = `whsec_${Buffer.from('fuzz-standard-secret-0123456789!').toString('base64')}`;

/** How each preset is signed (the providers' own algorithms, as documented in src/core/verify). */
export const SIGNERS: Record<string, { verification: Record<string, unknown>; timestamped: boolean; sign: IngestTarget['sign'] }> = {
  stripe: {
    verification: { type: 'stripe', secret: SECRET },
    timestamped: true,
    sign: (b, t, ok) => ({ headers: ['stripe-signature', `t=${t},v1=${hmacHex(ok ? SECRET : 'wrong', `${t}.`, b)}`], query: '' }),
  },
  github: {
    verification: { type: 'github', secret: SECRET },
    timestamped: false,
    sign: (b, _t, ok) => ({ headers: ['x-hub-signature-256', `sha256=${hmacHex(ok ? SECRET : 'wrong', b)}`], query: '' }),
  },
  slack: {
    verification: { type: 'slack', secret: SECRET },
    timestamped: true,
    sign: (b, t, ok) => ({ headers: ['x-slack-request-timestamp', String(t), 'x-slack-signature', `v0=${hmacHex(ok ? SECRET : 'wrong', `v0:${t}:`, b)}`], query: '' }),
  },
  shopify: {
    verification: { type: 'shopify', secret: SECRET },
    timestamped: false,
    sign: (b, _t, ok) => ({ headers: ['x-shopify-hmac-sha256', hmacB64(ok ? SECRET : 'wrong', b)], query: '' }),
  },
  standard: {
    verification: { type: 'standard', secret: STANDARD_SECRET },
    timestamped: true,
    sign: (b, t, ok) => {
      const id = `msg_${t}_${b.length}`;
      const key = ok ? Buffer.from(STANDARD_SECRET.slice(6), 'base64') : 'wrong';
      return { headers: ['webhook-id', id, 'webhook-timestamp', String(t), 'webhook-signature', `v1,${hmacB64(key, `${id}.${t}.`, b)}`], query: '' };
    },
  },
  hmac: {
    verification: { type: 'hmac', secret: SECRET, header: 'x-signature', prefix: 'sha256=', timestamp_header: 'x-timestamp', id_header: 'x-event-id' },
    timestamped: true,
    sign: (b, t, ok) => ({ headers: ['x-timestamp', String(t), 'x-signature', `sha256=${hmacHex(ok ? SECRET : 'wrong', `${t}.`, b)}`], query: '' }),
  },
  token: {
    verification: { type: 'token', secret: SECRET },
    timestamped: false,
    sign: (_b, _t, ok) => ({ headers: ['authorization', `Bearer ${ok ? SECRET : 'wrong'}`], query: '' }),
  },
  'token-query': {
    verification: { type: 'token', secret: SECRET, query: 'token' },
    timestamped: false,
    sign: (_b, _t, ok) => ({ headers: [], query: `token=${ok ? SECRET : 'wrong'}` }),
  },
  basic: {
    verification: { type: 'basic', username: 'fuzz', password: SECRET },
    timestamped: false,
    sign: (_b, _t, ok) => ({ headers: ['authorization', `Basic ${Buffer.from(`fuzz:${ok ? SECRET : 'wrong'}`).toString('base64')}`], query: '' }),
  },
  none: { verification: { type: 'none' }, timestamped: false, sign: () => ({ headers: [], query: '' }) },
};

/** POSTs during setup; the ids in the answer join the pool. */
async function created(api: Client, url: string, body: unknown, status = 201): Promise<any> {
  const res = await api.post(url, body);
  if (res.status !== status) throw new Error(`setup: POST ${url} answered ${res.status} ${JSON.stringify(res.body)}`);
  harvest(res.body);
  return res.body;
}

/** Objects of every kind, so that ids that exist are among the inputs. */
export async function seed() {
  const { server, receiver } = ctx;
  const api = server.api;
  const fail = receiver.url.replace('/hook', '/fail');
  const eps = [
    await created(api, '/v1/endpoints', { url: receiver.url, retry_schedule: [] }),
    await created(api, '/v1/endpoints', { url: fail, retry_schedule: [] }),
    await created(api, '/v1/endpoints', { url: fail, retry_schedule: [3600], consumer_id: 'cust_a', ordering: 'fifo' }),
    await created(api, '/v1/endpoints', { url: receiver.url, consumer_id: 'cust_b', event_types: ['a.b'] }),
  ];
  for (const e of eps) {
    seedEndpoints.add(e.id);
    await created(api, '/v1/messages', { event_type: 'fuzz.seed', payload: { n: 1 }, endpoint_id: e.id }, 202);
  }
  await api.post(`/v1/endpoints/${eps[3].id}/pause`);
  await created(api, '/v1/event-types', { name: 'fuzz.seed', description: 'seed' });
  const pull = await created(api, '/v1/inbound-endpoints', { name: 'pull', mode: 'pull', verification: { type: 'none' } });
  const fwd = await created(api, '/v1/inbound-endpoints', { name: 'fwd', mode: 'forward', destination_url: receiver.url, verification: { type: 'none' } });
  const cli = await created(api, '/v1/inbound-endpoints', { name: 'cli', mode: 'cli', verification: { type: 'token', secret: SECRET } });
  for (const e of [pull, fwd]) harvest(await (await fetch(`${server.url}/in/${e.id}`, { method: 'POST', body: '{"seed":true}' })).json());
  await fetch(`${server.url}/in/${cli.id}`, { method: 'POST', body: 'x' }); // a rejection
  await created(api, '/v1/exports', { kind: 'deliveries', format: 'csv' });
  await created(api, '/v1/exports', { kind: 'inbound-events', format: 'ndjson' });

  // Project C: a tenant of its own, which the fuzzer also speaks as (a non-admin key).
  const c = await createProject(api, 'fuzz-c');
  ctx.otherKey = c.key;
  remember(c.projectId);
  await created(c.api, '/v1/endpoints', { url: receiver.url });

  // Project B holds the ingest targets; its key reads them back in the regression tests.
  const b = await createProject(api, 'fuzz-ingest');
  untouchable.add(b.keyId);
  const apiB = (ctx.ingestApi = b.api);
  const target = async (kind: string, extra: Record<string, unknown> = {}, over: Partial<IngestTarget> = {}) => {
    const signer = SIGNERS[kind.split(':')[0]];
    const e = await created(apiB, '/v1/inbound-endpoints', { name: kind, mode: 'pull', verification: signer.verification, ...extra });
    ingestTargets.push({ id: e.id, kind, open: true, acceptStatus: e.ingest_response_code, sign: signer.sign, ...over });
    return e;
  };
  for (const kind of Object.keys(SIGNERS)) await target(kind);
  await target('none:fifo-forward', { mode: 'forward', destination_url: receiver.url, ordering: 'fifo', ingest_response_code: 200 });
  await target('github:dedupe', { idempotency_header_names: ['x-request-id'], ingest_response_code: 204 });
  await target('none:cli', { mode: 'cli' });
  await target('none:walled', { allowed_cidrs: ['10.0.0.0/8', '2001:db8::/32'] }, { open: false });
  const paused = await target('none:paused', {}, { open: false, paused: true });
  await apiB.post(`/v1/inbound-endpoints/${paused.id}/pause`);
  const gone = await target('none:deleted', {}, { open: false });
  await apiB.delete(`/v1/inbound-endpoints/${gone.id}`);
  // Let the seed deliveries settle (succeeded, failed, pending_retry), then collect every id listed.
  await waitUntil(async () => (await api.get('/v1/deliveries?status=queued')).body.data.length === 0, 10_000, 'seed deliveries to settle');
  for (const list of ['/v1/api-keys', '/v1/projects', '/v1/deliveries?limit=250', '/v1/inbound-events', '/v1/inbound-rejections']) harvest((await api.get(list)).body);
  for (const id of pool.filter((i) => i.startsWith('dlv_'))) harvest((await api.get(`/v1/deliveries/${id}/attempts`)).body);
}

/** Keeps state that would change what later requests mean (or slow them) in check. */
export async function afterRequest(r: FuzzRequest, res: FuzzResponse) {
  const { server } = ctx;
  const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
  if (json && res.status >= 200 && res.status < 300 && r.method !== 'HEAD' && res.body.length > 0 && res.body.length < 1_000_000) harvest(JSON.parse(res.body.toString('utf8')));
  // A project setting (a rate limit, strict event types) would turn the rest of the run into 429s.
  if (r.route === '/v1/projects/:id' && r.method === 'PATCH' && res.status === 200) {
    const id = (JSON.parse(res.body.toString('utf8')) as { id: string }).id;
    await server.api.patch(`/v1/projects/${id}`, { api_rate_limit_per_minute: null, strict_event_types: null, retry_schedule: null });
  }
  // Endpoints multiply the fan-out of every broadcast: drop the fuzzer's own now and then.
  if (stats.api % 150 === 0) {
    for (const e of (await server.api.get('/v1/endpoints?limit=250')).body.data) if (!seedEndpoints.has(e.id)) await server.api.delete(`/v1/endpoints/${e.id}`);
  }
}
