// Hookbridge under test: real `hookbridge serve` processes (embedded store, or PostgreSQL with
// separate API and worker processes), the API calls the workloads need, and peak RSS.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'packages/server/bin/hookbridge.js');
export const API_KEY = 'hb_live_bench_000000000000000000000000000';
const MASTER_KEY = crypto.randomBytes(32).toString('base64');

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** The settings every bench server shares: loopback receivers allowed, no API rate limit, quiet logs. */
function baseEnv(extra) {
  return {
    ...process.env,
    HOOKBRIDGE_HOST: '127.0.0.1',
    HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    HOOKBRIDGE_BOOTSTRAP_API_KEY: API_KEY,
    HOOKBRIDGE_MASTER_KEY: MASTER_KEY,
    HOOKBRIDGE_API_RATE_LIMIT_PER_MINUTE: '0',
    HOOKBRIDGE_LOG_LEVEL: 'warn',
    HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '1', // W4 and W6 leave requests hanging; do not wait for them
    ...extra,
  };
}

async function waitReady(url, child, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`hookbridge exited with ${child.exitCode} while starting`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`hookbridge at ${url} not ready after ${deadlineMs} ms`);
}

/**
 * CPU time (user + system) a process has used so far, in ms. Far steadier than throughput on a
 * shared machine: CPU per message is the bench's second view of every run.
 */
export function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Peak resident set size of a process so far, in MB (Linux VmHWM). */
export function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

async function startProcess(env, { profileDir } = {}) {
  const port = await freePort();
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...execArgv, BIN, 'serve'], { env: baseEnv({ ...env, HOOKBRIDGE_PORT: String(port) }), stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child);
  return {
    url,
    pid: child.pid,
    peakRssMb: () => peakRssMb(child.pid),
    cpuMs: () => cpuMs(child.pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A Hookbridge deployment: `{ store: 'sqlite' }` is one process on a fresh data dir;
 * `{ store: 'postgres', workers: N }` is a fresh database, `hookbridge migrate`, one API process
 * and N worker processes. `restart()` keeps the data (W3 seeds between two starts).
 */
export async function startHookbridge({ store, workers = 0, pgAdminUrl, profileDir: defaultProfileDir, env = {} }) {
  const name = `hookbridge_bench_${Date.now()}_${crypto.randomBytes(3).toString('hex')}`;
  let storeEnv;
  let dropStore;
  if (store === 'sqlite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-bench-'));
    storeEnv = { HOOKBRIDGE_DATA_DIR: dataDir };
    dropStore = async () => fs.rmSync(dataDir, { recursive: true, force: true });
  } else {
    const admin = new pg.Client({ connectionString: pgAdminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(pgAdminUrl);
    u.pathname = `/${name}`;
    storeEnv = { HOOKBRIDGE_DATABASE_URL: u.toString() };
    const migrated = spawnSync(process.execPath, [BIN, 'migrate'], { env: baseEnv(storeEnv), stdio: ['ignore', 'ignore', 'inherit'] });
    if (migrated.status !== 0) throw new Error('hookbridge migrate failed');
    dropStore = async () => {
      const c = new pg.Client({ connectionString: pgAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  let procs = [];
  const start = async (profileDir = defaultProfileDir) => {
    if (store === 'sqlite' || workers === 0) {
      procs = [await startProcess({ ...storeEnv, ...env }, { profileDir })];
    } else {
      procs = [await startProcess({ ...storeEnv, ...env, HOOKBRIDGE_ROLE: 'api' }, { profileDir })];
      for (let i = 0; i < workers; i++) procs.push(await startProcess({ ...storeEnv, ...env, HOOKBRIDGE_ROLE: 'worker' }, { profileDir }));
    }
  };
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  await start();
  return {
    store,
    storeEnv,
    get url() { return procs[0].url; },
    /** Peak RSS of each process (API first), MB. */
    peakRssMb: () => procs.map((p) => p.peakRssMb()),
    /** CPU time of all its processes so far, ms. */
    cpuMs: () => procs.reduce((n, p) => n + p.cpuMs(), 0),
    stop,
    /** Stops and starts the processes on the same data; `profileDir` profiles the new ones. */
    async restart({ profileDir } = {}) { await stop(); await start(profileDir); },
    async destroy() { await stop(); await dropStore(); },
  };
}

/** One API call; throws with the error body on a non-2xx. */
export async function api(hb, method, route, body) {
  const res = await fetch(`${hb.url}${route}`, { method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function createEndpoints(hb, count, make) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await api(hb, 'POST', '/v1/endpoints', make(i)));
  return out;
}
