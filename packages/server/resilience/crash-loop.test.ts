/**
 * Crash loop (DESIGN.md §4: "nothing acknowledged is ever lost, whatever process is killed when").
 *
 * 10,000 messages are published by 16 concurrent clients while server processes are killed with
 * SIGKILL at 20 random moments and started again. Afterwards every acknowledged message has
 * reached the receiver at least once, nothing is left `delivering` once the lease has run out,
 * and the duplicate count is reported.
 *
 * Embedded store: one process, API and worker in one. PostgreSQL: one API process and two
 * worker processes, killed separately (the victims are drawn at random, each role at least once).
 *
 * Sizes: HOOKBRIDGE_RESILIENCE_MESSAGES (10000), HOOKBRIDGE_RESILIENCE_KILLS (20); the seed of the
 * kill moments: HOOKBRIDGE_RESILIENCE_SEED (random, printed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Client, sleep, testEnv, waitUntil, ADMIN_KEY } from '../test/helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from '../test/postgres.js';
import { anyDeliveryIn, countingReceiver, numberFromEnv, seededRandom, ServerProcess, TEST_STORE, waitForQuiet, writeFigures } from './fleet.js';

const MESSAGES = numberFromEnv('HOOKBRIDGE_RESILIENCE_MESSAGES', 10_000);
const KILLS = numberFromEnv('HOOKBRIDGE_RESILIENCE_KILLS', 20);
const SEED = numberFromEnv('HOOKBRIDGE_RESILIENCE_SEED', Math.floor(Math.random() * 2 ** 31));
const CLIENTS = 16;
/** The endpoint's attempt timeout; the effective lease is 2 × this + 10 s (config.ts). */
const TIMEOUT_MS = 1000;
const LEASE_MS = 2 * TIMEOUT_MS + 10_000;

const processes: ServerProcess[] = [];
let database: TestDatabase | undefined;
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await database?.drop();
});

/** The processes of one deployment: [api or all-in-one, ...workers]. */
async function deploy(): Promise<{ api: ServerProcess; victims: ServerProcess[] }> {
  const shared = { HOOKBRIDGE_LEASE_SECONDS: '1', HOOKBRIDGE_POLL_INTERVAL_MS: '200', HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '0' };
  if (TEST_STORE === 'sqlite') {
    const all = await ServerProcess.start('all', testEnv(shared));
    processes.push(all);
    return { api: all, victims: [all] };
  }
  database = await createTestDatabase();
  const env = testEnv({ ...shared, HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY });
  const api = await ServerProcess.start('api', env);
  processes.push(api);
  for (let i = 0; i < 2; i++) processes.push(await ServerProcess.start('worker', env));
  return { api, victims: processes.slice() };
}

describe(`crash loop (${TEST_STORE})`, () => {
  it(`delivers every acknowledged message of ${MESSAGES} across ${KILLS} kill -9s`, { timeout: 600_000 }, async () => {
    const random = seededRandom(SEED);
    console.log(`[crash loop] seed ${SEED} (HOOKBRIDGE_RESILIENCE_SEED=${SEED} repeats the kill moments)`);
    const { api, victims } = await deploy();
    // Short answers so that many deliveries are in flight (and more queued) at each kill.
    const receiver = await countingReceiver(() => Math.floor(random() * 8));
    const client = new Client(api.url, ADMIN_KEY);
    const ep = await client.post('/v1/endpoints', { url: receiver.url, timeout_ms: TIMEOUT_MS, retry_schedule: [0.2, 0.5, 1, 2, 5, 10, 30] });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);

    // Kill moments: KILLS points spread at random over the run, by acknowledged count.
    const killAt = Array.from({ length: KILLS }, () => Math.floor(MESSAGES * (0.03 + 0.94 * random()))).sort((a, b) => a - b);
    // Each role is killed at least once; the rest at random.
    const victimOrder = Array.from({ length: KILLS }, (_, k) => (k < victims.length ? victims[k] : victims[Math.floor(random() * victims.length)]));
    for (let i = victimOrder.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [victimOrder[i], victimOrder[j]] = [victimOrder[j], victimOrder[i]];
    }

    const acked = new Set<string>();
    const refusals = new Map<string, number>(); // "status code" or "connection error" → count
    const serverErrors: string[] = [];
    let sent = 0;
    let kills = 0;
    const started = Date.now();

    const publisher = async () => {
      while (acked.size < MESSAGES || kills < KILLS) {
        const n = sent++;
        try {
          const res = await client.post('/v1/messages', { event_type: 'crash.loop', payload: { n }, endpoint_id: ep.body.id });
          if (res.status === 202) acked.add(res.body.id);
          else {
            refusals.set(String(res.status), (refusals.get(String(res.status)) ?? 0) + 1);
            // 503 is what a starting or draining server says; any other 5xx is a defect.
            if (res.status >= 500 && res.status !== 503) serverErrors.push(`${res.status} ${JSON.stringify(res.body)}`);
            await sleep(20);
          }
        } catch {
          // The API process is down (or died mid-request): that message was never acknowledged.
          refusals.set('connection error', (refusals.get('connection error') ?? 0) + 1);
          await sleep(20);
        }
      }
    };

    const killer = async () => {
      for (let k = 0; k < KILLS; k++) {
        await waitUntil(() => acked.size >= killAt[k], 300_000, `acknowledged count ${killAt[k]} for kill ${k + 1}`);
        // A random moment inside the stretch, not exactly at a round count.
        await sleep(Math.floor(random() * 100));
        const victim = victimOrder[k];
        await victim.kill9();
        kills++;
        // A real supervisor restarts after a moment; the others go on meanwhile.
        await sleep(Math.floor(random() * 300));
        await victim.restart();
      }
    };

    await Promise.all([killer(), ...Array.from({ length: CLIENTS }, publisher)]);
    const publishedAt = Date.now();

    // On a timeout, fall through to the assertion below: it lists what never arrived.
    await waitUntil(() => [...acked].every((id) => receiver.times.has(id)), LEASE_MS + 120_000, 'every acknowledged message at the receiver').catch(() => undefined);
    const missing = [...acked].filter((id) => !receiver.times.has(id));
    expect(missing.length, `${missing.length} of ${acked.size} acknowledged messages never reached the receiver, e.g. ${missing.slice(0, 5).join(', ')}`).toBe(0);
    const deliveredAt = Date.now();

    // Everything stored settles, and once the lease is over nothing is left `delivering` (a claim
    // of a dead process that was never taken back).
    await waitForQuiet(client, LEASE_MS + 60_000);
    await sleep(500);
    expect(await anyDeliveryIn(client, 'delivering'), 'a delivery stuck in delivering after the lease').toBe(false);
    expect(await anyDeliveryIn(client, 'queued')).toBe(false);
    expect(await anyDeliveryIn(client, 'failed'), 'a delivery failed although the receiver always answers 200').toBe(false);
    expect(serverErrors, 'answers other than 202/503 with a 5xx').toEqual([]);
    expect(kills).toBe(KILLS);

    const requests = [...receiver.times.values()].reduce((a, b) => a + b, 0);
    writeFigures('crash-loop', {
      seed: SEED,
      acknowledged: acked.size,
      publish_attempts: sent,
      not_acknowledged: Object.fromEntries(refusals),
      kills: Object.fromEntries(['all', 'api', 'worker'].map((role) => [role, victims.filter((v) => v.role === role).reduce((a, v) => a + v.kills, 0)]).filter(([, n]) => n)),
      lost: missing.length,
      received_unique: receiver.times.size,
      requests_at_receiver: requests,
      duplicates: requests - receiver.times.size,
      stored_not_acknowledged_but_delivered: receiver.times.size - [...receiver.times.keys()].filter((id) => acked.has(id)).length,
      publish_seconds: Math.round((publishedAt - started) / 100) / 10,
      drain_seconds_after_publish: Math.round((deliveredAt - publishedAt) / 100) / 10,
    });
    await receiver.close();
  });
});
