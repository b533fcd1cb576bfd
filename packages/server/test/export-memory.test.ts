/**
 * The acceptance test of exports (issue 8): an export of 100,000 deliveries streams while the
 * server's resident memory grows by less than 50 MB. The rows are written straight into the store
 * before the server starts (the embedded store in a data dir, or a PostgreSQL database of its own
 * with HOOKBRIDGE_TEST_STORE=postgres), then `hookbridge serve` runs as a child process and its
 * RSS (VmRSS in /proc/<pid>/status) is sampled every 50 ms while the test downloads the CSV as a
 * client on a modest link would (about 8 MB/s). The download also outlasts the request timeout
 * (set to 1 s here), which bounds receiving a request only and must not cut a long answer.
 *
 * A process test (scripts/run-tests.mjs: PROCESS_TESTS for the embedded store,
 * POSTGRES_PROCESS_TESTS for PostgreSQL). Needs `npm run build`. Figures:
 * test-results/figures/export-memory-<store>.json.
 */
import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapIfEmpty } from '../src/bootstrap.js';
import { ENDPOINT_DEFAULTS } from '../src/store/endpoints.js';
import { newDeliveryRow } from '../src/store/rows.js';
import { Store } from '../src/store/store.js';
import { writeFigures } from './figures.js';
import { ADMIN_KEY, Client, freePort, sleep, spawnServer, tempDir, testEnv, type ChildServer } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, TEST_STORE, type TestDatabase } from './postgres.js';

const ROWS = 100_000;
const RSS_GROWTH_BOUND = 50 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 1000;
const READ_BYTES_PER_SECOND = 8 * 1024 * 1024;

let database: TestDatabase | undefined;
let server: ChildServer | undefined;
let dataDir: string;

/** Writes ROWS finished deliveries (half failed, with an error text) of one message. */
async function seed(store: Store): Promise<void> {
  await bootstrapIfEmpty(store, ADMIN_KEY);
  const projectId = (await store.projects.findKeyBySecret(ADMIN_KEY))!.projectId;
  // Nothing listens on port 9; the one delivery publish queues is deleted, so ROWS is the total.
  const { endpoint } = await store.endpoints.create(projectId, { ...ENDPOINT_DEFAULTS, url: 'http://127.0.0.1:9/export-test' });
  const published = await store.messages.publish(projectId, { eventType: 'order.paid', payload: '{"order":"o_1"}', consumerId: null, endpointId: endpoint.id, broadcast: false, channels: null, idempotencyKey: null, requestHash: '' });
  if (published.kind !== 'created') throw new Error(`seed message: ${published.kind}`);
  await store.db.deleteFrom('deliveries').execute();
  const start = Date.now() - ROWS;
  for (let i = 0; i < ROWS; i += 10_000) {
    await store.db.transaction().execute(async (trx) => {
      for (let j = i; j < i + 10_000; j += 1000) {
        const rows = Array.from({ length: 1000 }, (_, k) => {
          const n = j + k;
          const failed = n % 2 === 1;
          return {
            ...newDeliveryRow({ projectId, messageId: published.message.id, endpointId: endpoint.id, consumerId: `customer-${n % 97}`, eventType: 'order.paid', status: failed ? 'failed' : 'succeeded', nextAttemptAt: null }, start + n),
            attempt_count: failed ? 8 : 1,
            run_attempts: failed ? 8 : 1,
            last_status_code: failed ? 503 : 200,
            last_error: failed ? 'retry schedule exhausted: endpoint answered 503 "Service Unavailable", try later' : null,
            last_attempt_at: start + n,
          };
        });
        await trx.insertInto('deliveries').values(rows).execute();
      }
    });
  }
}

function rssBytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

beforeAll(async () => {
  dataDir = tempDir('hookbridge-export-memory-');
  database = TEST_STORE === 'postgres' ? await createTestDatabase() : undefined;
  const store = database ? await Store.openPostgres({ dataDir, databaseUrl: database.url, masterKey: TEST_MASTER_KEY }) : await Store.openEmbedded({ dataDir });
  try {
    await seed(store);
    // Statistics, as autovacuum gathers them in a database that grew over time: without any,
    // PostgreSQL's planner sorts every earlier row for each page of a list (the API's too).
    await sql`analyze`.execute(store.db);
  } finally {
    await store.close();
  }
  const env = testEnv({
    HOOKBRIDGE_DATA_DIR: dataDir,
    HOOKBRIDGE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HOOKBRIDGE_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    ...(database ? { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY } : {}),
  });
  server = await spawnServer(env, await freePort());
}, 180_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('export memory', () => {
  it(`streams ${ROWS.toLocaleString('en')} deliveries as CSV with the server's RSS growing by less than 50 MB`, async () => {
    const api = new Client(server!.url, ADMIN_KEY);
    const job = await api.post('/v1/exports', { kind: 'deliveries', format: 'csv' });
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    expect(job.body.row_count).toBe(ROWS);

    const pid = server!.child.pid!;
    const before: number[] = [];
    for (let i = 0; i < 5; i++) {
      before.push(rssBytes(pid));
      await sleep(50);
    }
    const baseline = before.sort((a, b) => a - b)[2];
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);

    const started = Date.now();
    let bytes = 0;
    let lines = 0;
    let header = '';
    let previousId = '\uffff';
    let ordered = true;
    let rest = '';
    try {
      const res = await fetch(`${server!.url}/v1/exports/${job.body.id}/download`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-hookbridge-row-count')).toBe(String(ROWS));
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        // The seeded fields hold no line breaks, so each CRLF ends one record.
        const parts = (rest + decoder.decode(chunk, { stream: true })).split('\r\n');
        rest = parts.pop()!;
        for (const line of parts) {
          if (lines++ === 0) {
            header = line;
            continue;
          }
          const id = line.slice(0, line.indexOf(','));
          if (!(id < previousId)) ordered = false;
          previousId = id;
        }
        const ahead = bytes / READ_BYTES_PER_SECOND - (Date.now() - started) / 1000;
        if (ahead > 0) await sleep(ahead * 1000);
      }
    } finally {
      clearInterval(sampler);
    }
    const elapsedMs = Date.now() - started;
    peak = Math.max(peak, rssBytes(pid));

    expect(rest).toBe('');
    expect(header.split(',').slice(0, 3)).toEqual(['id', 'message_id', 'endpoint_id']);
    expect(lines - 1, 'data rows').toBe(ROWS);
    expect(ordered, 'ids strictly decreasing: every row once, newest first').toBe(true);
    // The download must really outlast the request timeout for the point above to mean anything.
    expect(elapsedMs).toBeGreaterThan(2 * REQUEST_TIMEOUT_MS);
    const growth = peak - baseline;
    writeFigures('export-memory', {
      rows: ROWS,
      file_mb: +(bytes / 1e6).toFixed(1),
      download_ms: elapsedMs,
      rss_before_mb: +(baseline / 1048576).toFixed(1),
      rss_peak_mb: +(peak / 1048576).toFixed(1),
      rss_growth_mb: +(growth / 1048576).toFixed(1),
    });
    expect(growth, `RSS grew from ${(baseline / 1048576).toFixed(1)} to ${(peak / 1048576).toFixed(1)} MiB`).toBeLessThan(RSS_GROWTH_BOUND);
  }, 180_000);
});
