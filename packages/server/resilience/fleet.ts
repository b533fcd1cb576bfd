/**
 * What the resilience suite shares: server processes that can be killed with SIGKILL and started
 * again on the same port and data dir, a receiver that counts what arrives per `webhook-id`,
 * a seeded random source (the seed is printed, so a failing run can be repeated), and the
 * figures each test writes for docs/RELIABILITY.md (test/figures.ts).
 *
 * All traffic stays on 127.0.0.1.
 */
import { ADMIN_KEY, Client, freePort, sleep, spawnServer, startReceiver, waitUntil, type ChildServer, type Receiver } from '../test/helpers.js';
import { TEST_STORE } from '../test/postgres.js';

export { TEST_STORE };

/** A `hookbridge serve` child process that keeps its port, env and data dir across restarts. */
export class ServerProcess {
  private current: ChildServer | undefined;
  kills = 0;

  private constructor(
    readonly role: string,
    readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  static async start(role: string, env: Record<string, string>): Promise<ServerProcess> {
    const p = new ServerProcess(role, { ...env, HOOKBRIDGE_ROLE: role }, await freePort());
    await p.restart();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get api(): Client {
    return new Client(this.url, ADMIN_KEY);
  }

  output(): string {
    return this.current?.output() ?? '';
  }

  async restart(): Promise<void> {
    this.current = await spawnServer(this.env, this.port);
  }

  /** kill -9, as a crash or the OOM killer would, and waits for the process to be gone. */
  async kill9(): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    c.child.kill('SIGKILL');
    const how = await c.exited;
    if (how !== 'SIGKILL') throw new Error(`${this.role} exited with ${how} before the kill:\n${c.output()}`);
    this.kills++;
  }

  async stop(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (c && c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGKILL');
      await Promise.race([c.exited, sleep(5000)]);
    }
  }
}

/** A loopback receiver that counts requests per webhook-id and answers 200 after `delayMs()`. */
export async function countingReceiver(delayMs: () => number = () => 0): Promise<Receiver & { times: Map<string, number> }> {
  const r = await startReceiver();
  const times = new Map<string, number>();
  r.handle((req, res) => {
    const id = String(req.headers['webhook-id']);
    times.set(id, (times.get(id) ?? 0) + 1);
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), delayMs());
  });
  // The receiver's own request log would hold every body of a long run; the counts are enough.
  const trim = setInterval(() => r.requests.splice(0), 1000);
  const close = r.close.bind(r);
  return Object.assign(r, {
    times,
    close: async () => {
      clearInterval(trim);
      await close();
    },
  });
}

/** mulberry32: small, fast and good enough to pick kill moments reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

/** Whether any delivery of the project is in `status` (one page of one row is enough to tell). */
export async function anyDeliveryIn(api: Client, status: string): Promise<boolean> {
  const res = await api.get(`/v1/deliveries?status=${status}&limit=1`);
  if (res.status !== 200) throw new Error(`GET /v1/deliveries?status=${status}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.length > 0;
}

/** Waits until nothing of the project is queued, delivering or waiting for a retry. */
export async function waitForQuiet(api: Client, timeoutMs: number): Promise<void> {
  const unsettled = ['delivering', 'queued', 'pending_retry'];
  let left: string[] = [];
  await waitUntil(
    async () => {
      left = [];
      for (const status of unsettled) if (await anyDeliveryIn(api, status)) left.push(status);
      return left.length === 0;
    },
    timeoutMs,
    'no delivery left queued, delivering or pending_retry',
  ).catch((err) => {
    throw new Error(`${(err as Error).message}; still there: ${left.join(', ')}`);
  });
}

export { writeFigures } from '../test/figures.js';
