/**
 * The real `hookbridge serve` as a child process, the way an operator runs it: kill -9 durability,
 * the SIGTERM drain, the one-process-per-data-dir lock, the first-start banner, the launcher's
 * message when nothing is built, and the exit code of a bad setting.
 *
 * Needs `npm run build` first (bin/hookbridge.js loads dist/). All traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  Client,
  LAUNCHER,
  freePort,
  sleep,
  spawnServer,
  startReceiver,
  tempDir,
  testEnv,
  waitUntil,
  type ChildServer,
  type Receiver,
  alive,
  kill,
  reapAfterEach,
} from './helpers.js';


// --- bookkeeping: every child, receiver and temp dir is cleaned up even when a test fails ---------

const { children, receivers, dirs } = reapAfterEach();

/** testEnv() with its data dir registered for cleanup. */
function env(overrides: Record<string, string> = {}): Record<string, string> {
  const e = testEnv(overrides);
  dirs.push(e.HOOKBRIDGE_DATA_DIR);
  return e;
}

async function server(e: Record<string, string>, port?: number): Promise<ChildServer> {
  const p = port ?? (await freePort());
  // spawnServer waits for /healthz before it hands the child back. (Should it time out with the
  // child still running, the helper does not return the child, so it cannot be reaped here.)
  const s = await spawnServer(e, p);
  children.push(s.child);
  return s;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the launcher (or a copy of it) to completion; killed after timeoutMs. */
function run(script: string, args: string[], e: Record<string, string | undefined>, timeoutMs = 15_000): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...e }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

async function createEndpoint(api: Client, url: string, extra: Record<string, unknown> = {}) {
  const res = await api.post('/v1/endpoints', { url, retry_schedule: [0.2, 0.5, 1], ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

/** Every delivery of the project in one of these statuses (follows next_cursor). */
async function deliveriesIn(api: Client, status: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: any } = await api.get(`/v1/deliveries?status=${status}&limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.has_more ? res.body.next_cursor : null;
  } while (cursor);
  return out;
}

describe.sequential('hookbridge serve as a process', () => {
  it('loses no acknowledged message when killed with SIGKILL mid-traffic, and delivers them after restart', { timeout: 120_000 }, async () => {
    const TOTAL = 1000;
    const SENDERS = 16;
    const KILL_AFTER = 300;

    const r = await receiver();
    const received = new Map<string, number>(); // webhook-id → times received
    let inProgress = 0;
    r.handle((req, res) => {
      const id = String(req.headers['webhook-id']);
      received.set(id, (received.get(id) ?? 0) + 1);
      inProgress++;
      // Slow enough that deliveries are still in flight (and a backlog is queued) at the kill.
      setTimeout(() => {
        inProgress--;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }, 20 + Math.floor(Math.random() * 20));
    });

    // The default lease, stated: deliveries claimed by the killed process must go out again at the
    // restart (the store releases them at open), not only once this lease has run out.
    const LEASE_SECONDS = 30;
    const e = env({ HOOKBRIDGE_LEASE_SECONDS: String(LEASE_SECONDS) });
    const first = await server(e);
    const api1 = new Client(first.url, ADMIN_KEY);
    await createEndpoint(api1, r.url);

    const acked = new Set<string>();
    const unexpected: string[] = [];
    let next = 0;
    let killed = false;
    let atKill = { acked: 0, received: 0, inProgress: 0, sent: 0 };
    const started = Date.now();

    const sender = async () => {
      while (next < TOTAL) {
        const i = next++;
        try {
          const res = await api1.post('/v1/messages', { event_type: 'test.crash', payload: { n: i } });
          if (res.status === 202) acked.add(res.body.id);
          else unexpected.push(`message ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        } catch (err) {
          if (!killed) unexpected.push(`message ${i}: ${(err as Error).message}`);
          return; // after the kill, failures are expected: those messages were never acknowledged
        }
        if (!killed && acked.size >= KILL_AFTER) {
          killed = true;
          atKill = { acked: acked.size, received: received.size, inProgress, sent: next };
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    expect(unexpected).toEqual([]);
    expect(killed).toBe(true);
    expect(await first.exited).toBe('SIGKILL');
    const ackedTotal = acked.size;
    // The kill must have hit while work was outstanding, or this test would prove nothing.
    expect(atKill.inProgress > 0 || atKill.received < atKill.acked, JSON.stringify(atKill)).toBe(true);

    const restartAt = Date.now();
    const second = await server(e); // same data dir and settings, new port
    const api2 = new Client(second.url, ADMIN_KEY);
    const readyAt = Date.now();
    // On a timeout, fall through to the assertion below: it lists what never arrived.
    await waitUntil(() => [...acked].every((id) => received.has(id)), 60_000).catch(() => undefined);
    const allAt = Date.now();

    const missing = [...acked].filter((id) => !received.has(id));
    expect(missing, `${missing.length} of ${acked.size} acknowledged messages never reached the receiver`).toEqual([]);
    expect(allAt - restartAt, 'the dead process\'s leases are released at start, not after they expire').toBeLessThan((LEASE_SECONDS / 2) * 1000);

    // Messages stored but not acknowledged before the kill are delivered too; wait for the queue to
    // settle, then nothing may be left in delivering (a lease of the dead process) or anywhere but
    // succeeded.
    await waitUntil(
      async () => (await deliveriesIn(api2, 'delivering')).length === 0 && (await deliveriesIn(api2, 'queued')).length === 0,
      20_000,
      'no delivery left queued or delivering',
    );
    await sleep(300);
    expect(await deliveriesIn(api2, 'delivering')).toEqual([]);
    expect(await deliveriesIn(api2, 'queued')).toEqual([]);
    expect(await deliveriesIn(api2, 'pending_retry')).toEqual([]);
    expect(await deliveriesIn(api2, 'failed')).toEqual([]);

    const totalRequests = [...received.values()].reduce((a, b) => a + b, 0);
    const duplicates = totalRequests - received.size;
    const unacknowledgedButDelivered = [...received.keys()].filter((id) => !acked.has(id)).length;
    console.log(
      `[kill -9] sent ${atKill.sent} before the kill; acknowledged ${ackedTotal} (${atKill.acked} at the kill, ` +
        `${atKill.received} of them already received, ${atKill.inProgress} in progress at the receiver); ` +
        `received ${received.size} unique ids in ${totalRequests} requests = ${duplicates} duplicates; ` +
        `${unacknowledgedButDelivered} stored-but-unacknowledged messages delivered too; ` +
        `traffic before the kill ${restartAt - started} ms; restart ${readyAt - restartAt} ms; ` +
        `all acknowledged delivered ${allAt - readyAt} ms after the restart answered`,
    );
  });

  it('drains on SIGTERM: the attempt in flight finishes and is recorded, then the process exits 0', { timeout: 30_000 }, async () => {
    const r = await receiver();
    let respondedAt = 0;
    r.handle((_req, res) => {
      res.on('finish', () => (respondedAt = Date.now()));
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow ok'), 1500);
    });

    // A grace well above the receiver's 1.5 s, so the drain (not the grace) decides.
    const e = env({ HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '8' });
    const s = await server(e);
    const api = new Client(s.url, ADMIN_KEY);
    await createEndpoint(api, r.url);
    const msg = await api.post('/v1/messages', { event_type: 'test.drain', payload: { slow: true } });
    expect(msg.status).toBe(202);
    const deliveryId: string = msg.body.deliveries[0].id;

    await r.waitForRequests(1);
    expect(respondedAt).toBe(0); // still in progress
    const termAt = Date.now();
    let exitedAt = 0;
    const exited = s.exited.then((code) => {
      exitedAt = Date.now();
      return code;
    });
    s.child.kill('SIGTERM');

    // The API stays up while the attempt drains and says it is not ready, so a load balancer
    // moves traffic away; /healthz still answers.
    await sleep(100);
    const readyz = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(1000) });
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ status: 'draining' });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);

    expect(await exited).toBe(0);
    expect(respondedAt).toBeGreaterThan(0); // the receiver's answer went out…
    expect(exitedAt).toBeGreaterThanOrEqual(respondedAt); // …before the process ended
    console.log(`[SIGTERM] exit 0 ${exitedAt - termAt} ms after the signal`);

    // The outcome was written before exit: after a restart the delivery is succeeded with one
    // attempt, and the receiver is not called again.
    const again = await server(e);
    const api2 = new Client(again.url, ADMIN_KEY);
    const d = await api2.get(`/v1/deliveries/${deliveryId}`);
    expect(d.status).toBe(200);
    expect(d.body.status).toBe('succeeded');
    expect(d.body.attempt_count).toBe(1);
    expect(d.body.last_status_code).toBe(200);
    const attempts = await api2.get(`/v1/deliveries/${deliveryId}/attempts`);
    expect(attempts.status).toBe(200);
    expect(attempts.body.data).toHaveLength(1);
    await sleep(600); // three poll intervals: time for a wrongly re-queued delivery to go out
    expect(r.requests).toHaveLength(1);
  });

  it('refuses a second process on the same data dir, quickly and with a clear message', { timeout: 30_000 }, async () => {
    const e = env();
    const first = await server(e);
    const port = await freePort();
    const second = await run(LAUNCHER, ['serve'], { ...e, HOOKBRIDGE_PORT: String(port) });
    expect(second.signal).toBeNull();
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.ms).toBeLessThan(10_000);
    expect(second.stderr).toContain(e.HOOKBRIDGE_DATA_DIR);
    expect(second.stderr).toMatch(/another hookbridge process/i);
    // It never listened, and the first server is unharmed.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(alive(first.child)).toBe(true);
    const api = new Client(first.url, ADMIN_KEY);
    expect((await api.get('/v1/endpoints')).status).toBe(200);
    console.log(`[lock] second process exited ${second.code} after ${second.ms} ms: ${second.stderr.trim()}`);
  });

  it('prints a generated admin key once on first start, and never again', { timeout: 30_000 }, async () => {
    // '' counts as unset, and also overrides anything inherited from the test runner's environment.
    const e = env({ HOOKBRIDGE_BOOTSTRAP_API_KEY: '' });
    const first = await server(e);
    await waitUntil(() => /hb_live_/.test(first.output()), 5000, 'the banner');
    const keys = new Set(first.output().match(/hb_live_[A-Za-z0-9_-]+/g) ?? []);
    expect(keys.size).toBe(1);
    const [key] = [...keys];
    expect(key.length).toBeGreaterThan(20);
    const api = new Client(first.url, key);
    expect((await api.get('/v1/endpoints')).status).toBe(200);
    expect((await api.get('/v1/projects')).status).toBe(200); // the bootstrap key is the admin key
    expect((await api.withKey(`${key}x`).get('/v1/endpoints')).status).toBe(401); // auth is real
    expect((await api.withKey(ADMIN_KEY).get('/v1/endpoints')).status).toBe(401);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await server(e);
    await waitUntil(() => second.output().includes('Hookbridge is serving on'), 5000, 'the serving line');
    await sleep(100);
    expect(second.output()).not.toMatch(/hb_live_|hb_test_/);
    expect((await new Client(second.url, key).get('/v1/projects')).status).toBe(200);
  });

  it('uses HOOKBRIDGE_BOOTSTRAP_API_KEY without printing it', { timeout: 30_000 }, async () => {
    const e = env(); // sets HOOKBRIDGE_BOOTSTRAP_API_KEY = ADMIN_KEY
    const s = await server(e);
    await waitUntil(() => s.output().includes('Hookbridge is serving on'), 5000, 'the serving line');
    await sleep(100);
    expect(s.output()).not.toContain(ADMIN_KEY);
    expect(s.output()).not.toMatch(/hb_live_|hb_test_/);
    const api = new Client(s.url, ADMIN_KEY);
    expect((await api.get('/v1/endpoints')).status).toBe(200);
    expect((await api.get('/v1/projects')).status).toBe(200);
  });

  it('says how to build when the launcher has no dist next to it', async () => {
    const dir = tempDir('hookbridge-launcher-');
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'bin'));
    const copy = path.join(dir, 'bin', 'hookbridge.js');
    fs.copyFileSync(LAUNCHER, copy);
    const res = await run(copy, ['serve'], env());
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('npm run build');
    expect(res.stdout).toBe('');
  });

  it('exits 2 naming the setting when the configuration is invalid', async () => {
    const res = await run(LAUNCHER, ['serve'], env({ HOOKBRIDGE_PORT: 'abc' }));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('HOOKBRIDGE_PORT');
    expect(res.stderr).toContain('abc');
    expect(res.stdout).not.toContain('Hookbridge is serving');
  });

  it('`hookbridge migrate` creates the schema and exits 0; serve then starts on it', async () => {
    const e = env();
    const res = await run(LAUNCHER, ['migrate'], e);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('schema is up to date');
    expect(fs.existsSync(path.join(e.HOOKBRIDGE_DATA_DIR, 'hookbridge.db'))).toBe(true);
    const again = await run(LAUNCHER, ['migrate'], e);
    expect(again.code).toBe(0);
  });

  it('forwards every accepted inbound event once the destination is back, across a kill -9', { timeout: 90_000 }, async () => {
    const TOTAL = 200;
    const r = await receiver();
    let destinationUp = false;
    const forwarded = new Map<string, number>(); // webhook-id (= inbound event id) → times
    r.handle((req, res) => {
      if (!destinationUp) return void res.writeHead(503).end('down');
      const id = String(req.headers['webhook-id']);
      forwarded.set(id, (forwarded.get(id) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
    const e = env();
    const first = await server(e);
    const api1 = new Client(first.url, ADMIN_KEY);
    const created = await api1.post('/v1/inbound-endpoints', {
      name: 'github', mode: 'forward', destination_url: r.url, retry_schedule: [0.2, 0.5, 1, 1, 1, 1, 1, 1, 1, 1], verification: { type: 'github', secret: 'gh' },
    });
    expect(created.status).toBe(201);
    const ingestPath = new URL(created.body.ingest_url).pathname;

    const accepted = new Set<string>();
    let next = 0;
    let killed = false;
    const poster = async () => {
      while (next < TOTAL) {
        const i = next++;
        const body = JSON.stringify({ delivery: i });
        try {
          const res = await fetch(first.url + ingestPath, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-github-delivery': `d-${i}`, 'x-hub-signature-256': await githubSign('gh', body) },
            body,
          });
          if (res.status === 202) accepted.add(((await res.json()) as any).id);
        } catch {
          return; // refused by the killed server: never acknowledged
        }
        if (!killed && accepted.size >= TOTAL / 2) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, poster));
    expect(killed).toBe(true);
    expect(await first.exited).toBe('SIGKILL');
    expect(forwarded.size, 'nothing reached the destination while it was down').toBe(0);

    await server(e);
    destinationUp = true;
    await waitUntil(() => [...accepted].every((id) => forwarded.has(id)), 45_000).catch(() => undefined);
    const lost = [...accepted].filter((id) => !forwarded.has(id));
    expect(lost, `${lost.length} of ${accepted.size} accepted inbound events never forwarded`).toEqual([]);
  });
});
