/**
 * Secrets at rest and in logs (DESIGN.md §5, §7): after a run that creates API keys, endpoints
 * (signing secrets, rotated too, and custom headers carrying a credential), inbound endpoints of
 * every verification kind with their secrets (one changed by PATCH, one rotated), delivers to a
 * loopback receiver, and ingests events (and refusals) with the credentials in headers and query,
 * none of those secrets is found in clear text in any of these places:
 *
 * 1. every file under the data dir, read as bytes, while the server runs (hookbridge.db with its
 *    -wal file, and -shm if there is one) and again after it closed;
 * 2. every log line, at trace level;
 * 3. with PostgreSQL (HOOKBRIDGE_TEST_STORE=postgres): every row of every table of the server's
 *    database, as row_to_json text (bytea columns show as hex, which is searched too).
 *
 * Each secret is searched in every form it could be written in: the string itself, its bytes as
 * a logged Buffer shows them (a JSON list of numbers), the base64 part of `whsec_…` and
 * `hb_live_…` values and the raw bytes it decodes to (as bytes and as hex), and the base64 of
 * `user:password` for HTTP Basic. A marker sent in a payload and an ingested
 * body IS found in the same places, so the search can see clear text where there is some.
 *
 * The admin key comes from HOOKBRIDGE_BOOTSTRAP_API_KEY here, which is never printed (the one
 * place a key may be printed, the first-start banner of a random key, is not used).
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_MASTER_KEY, TEST_STORE, type TestDatabase } from './postgres.js';
import { copyStore } from '../src/store/copy-store.js';
import { ENDPOINT_DEFAULTS } from '../src/store/endpoints.js';
import { Store } from '../src/store/store.js';
import { ADMIN_KEY, createProject, rawConnection, startReceiver, startTestServer, tempDir, waitForDelivery, waitUntil, type Receiver, type TestServer } from './helpers.js';

const lines: string[] = [];
let server: TestServer;
let receiver: Receiver;
let database: TestDatabase | undefined;
let closed = false;

/** Every secret of the run: what it is, and its value as the API or the sender had it. */
const secrets: Array<{ what: string; value: string }> = [];
const keep = (what: string, value: string) => {
  expect(value.length, what).toBeGreaterThanOrEqual(12);
  secrets.push({ what, value });
  return value;
};
const rand = (n = 24) => randomBytes(n).toString('base64url');
const marker = `clear-text-marker-${rand(12)}`;

beforeAll(async () => {
  // PostgreSQL: a database of the test's own (startTestServer would drop its one on close), so
  // that it can be dumped after the server has stopped.
  if (TEST_STORE === 'postgres') database = await createTestDatabase();
  const env: Record<string, string> = { HOOKBRIDGE_LOG_LEVEL: 'trace' };
  if (database) Object.assign(env, { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY });
  [server, receiver] = await Promise.all([startTestServer(env, { logLines: lines }), startReceiver()]);
});

afterAll(async () => {
  if (!closed) await server?.close();
  await receiver?.close();
  await database?.drop();
});

/** The forms a secret could be written in: itself, and the bytes its base64 part stands for. */
function formsOf(value: string): Array<[string, Buffer]> {
  const forms: Array<[string, Buffer]> = [
    ['as text', Buffer.from(value)],
    // How a logged Buffer looks ({"type":"Buffer","data":[104,98,…]}), e.g. a parser error's rawPacket.
    ['as JSON bytes', Buffer.from(JSON.stringify([...Buffer.from(value)]).slice(1, -1))],
  ];
  const b64 = /^(?:whsec_|hb_(?:live|test)_)(.+)$/.exec(value)?.[1];
  if (b64) {
    const raw = Buffer.from(b64, /[-_]/.test(b64) ? 'base64url' : 'base64');
    forms.push(['base64 part', Buffer.from(b64)], ['raw bytes', raw], ['raw bytes as hex', Buffer.from(raw.toString('hex'))]);
  }
  return forms;
}

/** Which secrets (in which form) occur in `haystack`. */
function leaks(place: string, haystack: Buffer): string[] {
  const found: string[] = [];
  for (const s of secrets) for (const [form, needle] of formsOf(s.value)) if (haystack.includes(needle)) found.push(`${place}: ${s.what} (${form})`);
  return found;
}

function filesUnder(dir: string): string[] {
  // Sockets (the embedded server's control.sock) hold no bytes to read.
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : d.isSocket() ? [] : [path.join(dir, d.name)]));
}

/** Every file of the data dir, as bytes. */
function dataDirFiles(): Array<[string, Buffer]> {
  return filesUnder(server.dataDir).map((f) => [path.relative(server.dataDir, f), fs.readFileSync(f)]);
}

/** Every row of every table of the server's PostgreSQL database, as JSON text. */
async function dumpTables(url: string): Promise<Array<[string, Buffer]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: Array<[string, Buffer]> = [];
    for (const { s, t } of tables.rows) {
      const rows = await c.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM "${s}"."${t}" x`);
      out.push([`${s}.${t}`, Buffer.from(rows.rows.map((r) => r.j).join('\n'))]);
    }
    return out;
  } finally {
    await c.end();
  }
}

const hmacHex = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest('hex');

async function ingest(url: string, body: string, headers: Record<string, string> = {}, expected = 202): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  expect(res.status, `${url}: ${await res.clone().text()}`).toBe(expected);
}

/** A request whose headers exceed the server's limit, sent with a real key in Authorization. */
async function oversizedHeaders(key: string): Promise<string> {
  const head = `GET /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
  return (await rawConnection(server.url, head)).answer;
}

describe.sequential('secrets at rest and in logs', () => {
  const running: Array<[string, Buffer]> = [];

  it('a run with every kind of secret', async () => {
    const api = server.api;
    keep('admin key (HOOKBRIDGE_BOOTSTRAP_API_KEY)', ADMIN_KEY);
    const other = await createProject(api, 'secrets');
    keep("another project's key", other.key);
    keep('a key made with POST /v1/api-keys', (await other.api.post('/v1/api-keys', { label: 'second' })).body.key);

    // Outbound endpoints: signing secrets (both schemes; rotated, old and new both sign) and a
    // custom header carrying the receiver's credential.
    const credential = keep('endpoint header credential (Authorization)', `receiver-cred-${rand()}`);
    const apiKeyHeader = keep('endpoint header credential (X-Api-Key)', `receiver-key-${rand()}`);
    const ep = (await api.post('/v1/endpoints', { url: receiver.url, headers: { Authorization: `Bearer ${credential}`, 'X-Api-Key': apiKeyHeader } })).body;
    keep('endpoint signing secret', ep.signing_secret);
    const rotated = await api.post(`/v1/endpoints/${ep.id}/secret/rotate`, { grace_seconds: 3600 });
    expect(rotated.status).toBe(200);
    keep('rotated endpoint signing secret', rotated.body.signing_secret);
    const ep2 = (await other.api.post('/v1/endpoints', { url: `${receiver.url}?hookbridge-scheme`, signature_scheme: 'hookbridge' })).body;
    keep('endpoint signing secret (hookbridge scheme)', ep2.signing_secret);
    const sent: Array<[typeof api, string]> = [];
    for (let i = 0; i < 3; i++) sent.push([api, (await api.post('/v1/messages', { event_type: 's.t', payload: { marker, i }, endpoint_id: ep.id })).body.deliveries[0].id]);
    sent.push([other.api, (await other.api.post('/v1/messages', { event_type: 's.t', payload: { marker }, endpoint_id: ep2.id })).body.deliveries[0].id]);

    // Inbound endpoints, one per kind of verification secret.
    const inbound = async (name: string, verification: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const res = await api.post('/v1/inbound-endpoints', { name, mode: 'pull', verification, ...extra });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      keep(`${name}: inbound signing secret`, res.body.signing_secret);
      return res.body as { id: string; ingest_url: string };
    };
    const body = JSON.stringify({ id: `evt_${rand(8)}`, marker });
    const now = Math.floor(Date.now() / 1000);

    const stripeSecret = keep('stripe secret', `whsec_${randomBytes(32).toString('base64')}`);
    const stripe = await inbound('stripe', { type: 'stripe', secret: stripeSecret });
    await ingest(stripe.ingest_url, body, { 'stripe-signature': `t=${now},v1=${hmacHex(stripeSecret, `${now}.${body}`)}` });

    const githubSecret = keep('github secret', randomBytes(20).toString('hex'));
    const github = await api.post('/v1/inbound-endpoints', { name: 'github', mode: 'forward', destination_url: `${receiver.url}?forwarded`, verification: { type: 'github', secret: githubSecret } });
    expect(github.status).toBe(201);
    keep('github: inbound signing secret', github.body.signing_secret);
    await ingest(github.body.ingest_url, body, { 'x-hub-signature-256': `sha256=${hmacHex(githubSecret, body)}`, 'x-github-delivery': rand(8) });

    const standardSecret = keep('standard webhooks secret', `whsec_${randomBytes(24).toString('base64')}`);
    const standard = await inbound('standard', { type: 'standard', secret: standardSecret });
    const msgId = `msg_${rand(8)}`;
    const sig = createHmac('sha256', Buffer.from(standardSecret.slice(6), 'base64')).update(`${msgId}.${now}.${body}`).digest('base64');
    await ingest(standard.ingest_url, body, { 'webhook-id': msgId, 'webhook-timestamp': String(now), 'webhook-signature': `v1,${sig}` });

    const hmacSecret = keep('generic hmac secret', rand());
    const generic = await inbound('hmac', { type: 'hmac', secret: hmacSecret, header: 'x-signature', algorithm: 'sha256', encoding: 'hex' });
    await ingest(generic.ingest_url, body, { 'x-signature': hmacHex(hmacSecret, body) });

    const headerToken = keep('token (Authorization header)', `tok-${rand()}`);
    const tokenHeader = await inbound('token-header', { type: 'token', secret: headerToken });
    await ingest(tokenHeader.ingest_url, body, { authorization: `Bearer ${headerToken}` });
    // Refused for its source address, with the right token: the rejection keeps the headers.
    const walled = await inbound('token-walled', { type: 'token', secret: headerToken }, { allowed_cidrs: ['10.0.0.0/8'] });
    await ingest(walled.ingest_url, body, { authorization: `Bearer ${headerToken}` }, 403);

    const queryToken = keep('token (query parameter)', `qtok-${rand()}`);
    const tokenQuery = await inbound('token-query', { type: 'token', secret: queryToken, query: 'token' });
    await ingest(`${tokenQuery.ingest_url}?token=${queryToken}`, body);
    // Refused for its source address with the right token in the query: the refusal is logged
    // with its URL (at debug level), which must not show the token.
    const queryWalled = await inbound('token-query-walled', { type: 'token', secret: queryToken, query: 'token' }, { allowed_cidrs: ['10.0.0.0/8'] });
    await ingest(`${queryWalled.ingest_url}?token=${queryToken}`, body, {}, 403);

    const password = keep('basic password', `pw-${rand()}`);
    keep('basic credentials as sent (base64 of user:password)', Buffer.from(`hook-user:${password}`).toString('base64'));
    const basicAuth = { authorization: `Basic ${Buffer.from(`hook-user:${password}`).toString('base64')}` };
    const basic = await inbound('basic', { type: 'basic', username: 'hook-user', password });
    await ingest(basic.ingest_url, body, basicAuth);
    // Refused while paused, with the right credentials: a rejection too.
    expect((await api.post(`/v1/inbound-endpoints/${basic.id}/pause`)).status).toBe(200);
    await ingest(basic.ingest_url, body, basicAuth, 503);

    // A secret changed by PATCH (old and new), and a rotated forwarding secret.
    const patchedToken = keep('token set by PATCH', `tok2-${rand()}`);
    expect((await api.patch(`/v1/inbound-endpoints/${tokenHeader.id}`, { verification: { type: 'token', secret: patchedToken } })).status).toBe(200);
    await ingest(tokenHeader.ingest_url, body, { authorization: patchedToken });
    const inRotated = await api.post(`/v1/inbound-endpoints/${github.body.id}/secret/rotate`, { grace_seconds: 3600 });
    keep('rotated inbound signing secret', inRotated.body.signing_secret);

    // Things that get logged: a refused key, and headers over the size limit carrying a real key.
    const badKey = keep('an unknown key a client sent', `hb_live_${rand(32)}`);
    expect((await api.withKey(badKey).get('/v1/endpoints')).status).toBe(401);
    expect(await oversizedHeaders(other.key)).toMatch(/^HTTP\/1\.1 431 /);
    expect((await api.get('/healthz')).status).toBe(200);

    for (const [client, id] of sent) await waitForDelivery(client, id, ['succeeded']);
    await receiver.waitForRequests(5);
    // The receiver did get the credential and the forwarded event: they were really used.
    expect(receiver.requests.find((r) => r.url === '/hook')?.headers.authorization).toBe(`Bearer ${credential}`);
    await waitUntil(() => receiver.requests.some((r) => r.url.endsWith('?forwarded')), 10_000, 'the forwarded event');

    running.push(...dataDirFiles());
    expect(secrets.length).toBeGreaterThanOrEqual(25);
  });

  it('the data dir holds none of them in clear text, while running and after close', async () => {
    await server.close();
    closed = true;
    const after = dataDirFiles();
    if (!database) {
      // The embedded store: the database and its WAL while running (-shm too, if SQLite keeps
      // one), the database after close.
      expect(running.map(([f]) => f)).toEqual(expect.arrayContaining(['hookbridge.db', 'hookbridge.db-wal']));
      expect(after.map(([f]) => f)).toContain('hookbridge.db');
      expect(Buffer.concat(running.map(([, b]) => b)).includes(marker), 'the payload marker while running').toBe(true);
      expect(Buffer.concat(after.map(([, b]) => b)).includes(marker), 'the payload marker after close').toBe(true);
    }
    const found = [...running.flatMap(([f, b]) => leaks(`${f} (running)`, b)), ...after.flatMap(([f, b]) => leaks(`${f} (closed)`, b))];
    expect(found).toEqual([]);
  });

  it.runIf(TEST_STORE === 'postgres')('no table of the PostgreSQL database holds them in clear text', async () => {
    const tables = await dumpTables(database!.url);
    expect(tables.map(([t]) => t)).toEqual(expect.arrayContaining(['public.endpoints', 'public.endpoint_secrets', 'public.inbound_endpoints', 'public.api_keys', 'public.messages']));
    expect(Buffer.concat(tables.map(([, b]) => b)).includes(marker), 'the payload marker').toBe(true);
    expect(tables.flatMap(([t, b]) => leaks(t, b))).toEqual([]);
  });

  it('no log line holds them', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(server.app.log.level).toBe('trace');
    // Among them the refusal of the oversized headers, whose raw bytes held a key.
    expect(lines.some((l) => l.includes('HPE_HEADER_OVERFLOW')), 'the header overflow was logged').toBe(true);
    // And the refused ingest with the token in its query, its URL masked.
    expect(lines.some((l) => l.includes('request failed') && l.includes('?token=[redacted]')), 'the refused ingest was logged').toBe(true);
    expect(leaks('log', Buffer.from(lines.join('\n')))).toEqual([]);
  });
});

describe('endpoint headers an older version stored in clear', () => {
  it('are sealed when the store opens, and read back the same', async () => {
    const db = TEST_STORE === 'postgres' ? await createTestDatabase() : undefined;
    const opts = { dataDir: tempDir(), masterKey: TEST_MASTER_KEY, databaseUrl: db?.url };
    try {
      let store = await Store.open(opts);
      const project = await store.projects.create('legacy', {});
      const headers = { Authorization: `Bearer legacy-${rand()}` };
      const { endpoint } = await store.endpoints.create(project.id, { ...ENDPOINT_DEFAULTS, url: 'http://127.0.0.1:9/hook', headers });
      const column = async () => (await store.db.selectFrom('endpoints').select('headers').where('id', '=', endpoint.id).executeTakeFirstOrThrow()).headers;
      expect(await column()).not.toContain('legacy-');
      // As rows were written before headers were sealed:
      await store.db.updateTable('endpoints').set({ headers: JSON.stringify(headers) }).where('id', '=', endpoint.id).execute();
      expect((await store.endpoints.get(project.id, endpoint.id))?.headers).toEqual(headers);
      await store.close();
      store = await Store.open(opts);
      try {
        expect(await column()).toMatch(/^v1:/);
        expect((await store.endpoints.get(project.id, endpoint.id))?.headers).toEqual(headers);
      } finally {
        await store.close();
      }
    } finally {
      await db?.drop();
    }
  });

  it('are sealed again under the target master key when a store is copied (hookbridge migrate-store)', async () => {
    const from = await Store.openEmbedded({ dataDir: tempDir(), masterKey: TEST_MASTER_KEY });
    const to = await Store.openEmbedded({ dataDir: tempDir(), masterKey: randomBytes(32).toString('base64') });
    try {
      const project = await from.projects.create('copied', {});
      const headers = { 'X-Api-Key': `copied-${rand()}` };
      const { endpoint } = await from.endpoints.create(project.id, { ...ENDPOINT_DEFAULTS, url: 'http://127.0.0.1:9/hook', headers });
      await copyStore(from, to);
      expect((await to.endpoints.get(project.id, endpoint.id))?.headers).toEqual(headers);
    } finally {
      await from.close();
      await to.close();
    }
  });
});
