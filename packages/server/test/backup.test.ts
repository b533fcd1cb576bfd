/**
 * `hookbridge backup` and `hookbridge restore` as an operator runs them: the built CLI against a
 * real `hookbridge serve` child process under a delivery load, then a second server started on
 * the restored data dir. The backup file is also opened directly with better-sqlite3, as an
 * independent reader of what it holds.
 *
 * Needs `npm run build` first (bin/hookbridge.js loads dist/). All traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  Client,
  LAUNCHER,
  freePort,
  sleep,
  spawnServer,
  startReceiver,
  startTestServer,
  tempDir,
  testEnv,
  waitUntil,
  type ChildServer,
  type Receiver,
  alive,
  kill,
  reapAfterEach,
} from './helpers.js';


const { children, receivers, dirs } = reapAfterEach();

function dir(prefix = 'hookbridge-backup-'): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function server(dataDir: string, extra: Record<string, string> = {}): Promise<ChildServer> {
  const s = await spawnServer(testEnv({ HOOKBRIDGE_DATA_DIR: dataDir, ...extra }), await freePort());
  children.push(s.child);
  return s;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion, without the test's HOOKBRIDGE_* settings unless given. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOOKBRIDGE_')));
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Every message the key's project lists (follows next_cursor). */
async function listMessages(api: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const res: { status: number; body: any } = await api.get(`/v1/messages?limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const m of res.body.data) ids.add(m.id);
    cursor = res.body.has_more ? res.body.next_cursor : null;
  } while (cursor);
  return ids;
}

/** Reads the backup file directly: what it holds, independently of Hookbridge's code. */
function readBackup(file: string): { messages: Set<string>; unfinished: Array<{ id: string; message_id: string; status: string }> } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const messages = new Set((db.prepare('SELECT id FROM messages').all() as Array<{ id: string }>).map((r) => r.id));
    const unfinished = db.prepare("SELECT id, message_id, status FROM deliveries WHERE status NOT IN ('succeeded', 'failed', 'cancelled')").all() as Array<{ id: string; message_id: string; status: string }>;
    return { messages, unfinished };
  } finally {
    db.close();
  }
}

function endpointsIn(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM endpoints').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe.sequential('hookbridge backup and restore', () => {
  it('a backup taken during a delivery load restores into a server that lists every acknowledged message and finishes the deliveries', async () => {
    const work = dir();
    const dataA = path.join(work, 'a');
    const dataB = path.join(work, 'b');
    const file = path.join(work, 'backup.db');
    const r = await startReceiver();
    receivers.push(r);
    // Slow-ish receiver, one request at a time: a backlog builds, so the backup catches
    // deliveries queued and in flight.
    r.handle((_req, res) => void setTimeout(() => res.writeHead(200).end('ok'), 20));
    const a = await server(dataA, { HOOKBRIDGE_ENDPOINT_CONCURRENCY: '1' });
    const api = new Client(a.url, ADMIN_KEY);
    const ep = await api.post('/v1/endpoints', { url: r.url });
    expect(ep.status).toBe(201);

    const acked: string[] = [];
    let loading = true;
    const poster = async () => {
      let n = 0;
      while (loading) {
        const res = await api.post('/v1/messages', { event_type: 'load.test', payload: { n: n++ }, endpoint_id: ep.body.id });
        if (res.status === 202) acked.push(res.body.id);
        else throw new Error(`publish refused: ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const load = Promise.all([poster(), poster(), poster(), poster()]);
    await waitUntil(() => acked.length >= 300 && r.requests.length >= 20, 60_000, 'load under way');

    const ackedBefore = [...acked];
    const backup = await cli(['backup', file, '--data-dir', dataA, '--include-master-key']);
    const ackedDuring = acked.length - ackedBefore.length;
    await sleep(200);
    loading = false;
    await load;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^backup written to .*backup\.db: [\d.]+ (KiB|MiB), \d+ pages, schema 00\d_\w+, [\d.]+ s \(made by the running server\)\n$/);
    expect(backup.stderr).toContain('master key written to');
    // Piped stderr: no progress redraws.
    expect(backup.stderr).not.toContain('\r');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}.master.key`).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${file}.master.key`, 'utf8')).toBe(fs.readFileSync(path.join(dataA, 'master.key'), 'utf8'));
    expect(fs.existsSync(`${file}.partial`)).toBe(false);
    // One self-contained file: rollback-journal mode (header bytes 18-19 are 1, WAL would be 2).
    expect([...fs.readFileSync(file).subarray(18, 20)]).toEqual([1, 1]);
    // The server kept serving through the backup, and the backup did not take its lock.
    expect(ackedDuring, 'messages were acknowledged while the backup ran').toBeGreaterThan(0);
    expect(alive(a.child)).toBe(true);
    expect((await api.post('/v1/messages', { event_type: 'after.backup', payload: {}, endpoint_id: ep.body.id })).status).toBe(202);

    const held = readBackup(file);
    const missing = ackedBefore.filter((id) => !held.messages.has(id));
    expect(missing, 'acknowledged before the backup started, absent from it').toEqual([]);
    expect(held.unfinished.length, 'the backup caught deliveries not yet made').toBeGreaterThan(0);

    // Restore into a new data dir while A still runs (another dir: allowed), then stop A so the
    // receiver hears only from the restored server.
    const restored = await cli(['restore', file, '--data-dir', dataB]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored .* into .*: \d+ projects, \d+ messages, schema/);
    expect(restored.stderr).toContain('master key installed');
    expect(fs.statSync(path.join(dataB, 'master.key')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataB).sort()).toEqual(['hookbridge.db', 'master.key']);
    await kill(a.child);
    const heardBefore = r.requests.length;

    const b = await server(dataB);
    const apiB = new Client(b.url, ADMIN_KEY);
    const listed = await listMessages(apiB);
    expect(ackedBefore.filter((id) => !listed.has(id)), 'acknowledged before the backup, not listed after restore').toEqual([]);
    expect(listed.size).toBe(held.messages.size);

    // What the backup had not delivered yet (queued, or leased to A when copied) goes out now.
    const unfinished = new Set(held.unfinished.map((d) => d.id));
    await waitUntil(
      () => {
        const sent = new Set(r.requests.slice(heardBefore).map((q) => String(q.headers['x-hookbridge-delivery-id'])));
        return [...unfinished].every((id) => sent.has(id));
      },
      120_000,
      `the restored server to send the ${unfinished.size} unfinished deliveries`,
    );
    const sample = held.unfinished.slice(0, 20);
    for (const d of sample) {
      await waitUntil(async () => (await apiB.get(`/v1/deliveries/${d.id}`)).body.status === 'succeeded', 30_000, `delivery ${d.id} succeeded`);
    }
    // Signed with the secret made before the backup, which the installed master key opened.
    const resent = r.requests.slice(heardBefore);
    const wh = new Webhook(ep.body.signing_secret);
    for (const q of resent.slice(0, 20)) expect(() => wh.verify(q.body, q.headers as Record<string, string>)).not.toThrow();
    await kill(b.child, 'SIGTERM');
  }, 240_000);

  it('the copy holds every commit acknowledged before it ends: those still in the WAL and those made while it runs', async () => {
    const s = await startTestServer();
    try {
      const ep = await s.api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/unreachable' });
      const publish = async (n: number) => {
        const res = await s.api.post('/v1/messages', { event_type: 'fill', payload: { n, pad: 'y'.repeat(12_000) }, endpoint_id: ep.body.id });
        expect(res.status).toBe(202);
        return res.body.id as string;
      };
      for (let i = 0; i < 300; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => publish(i + j)));
      const acked: string[] = [];
      let copying = true;
      const writer = (async () => {
        for (let n = 0; copying; n++) acked.push(await publish(1000 + n));
      })();
      const file = path.join(dir(), 'inproc.db');
      let steps = 0;
      try {
        await s.store.backupTo!(file, { onProgress: () => void steps++ });
      } finally {
        copying = false;
      }
      const ackedBeforeEnd = [...acked];
      await writer;
      const held = readBackup(file);
      const all = [...(await listMessages(s.api))];
      const ackedBeforeStart = all.filter((id) => !acked.includes(id));
      expect(ackedBeforeStart.length).toBe(300);
      expect(ackedBeforeStart.filter((id) => !held.messages.has(id)), 'acknowledged before the copy, absent').toEqual([]);
      expect(ackedBeforeEnd.filter((id) => !held.messages.has(id)), 'acknowledged while it ran, absent').toEqual([]);
      expect(steps, 'copied in several steps, the API serving in between').toBeGreaterThan(1);
    } finally {
      await s.close();
    }
  });

  it('refuses to overwrite a backup, to restore over a running server or an existing store, and restores a stopped store', async () => {
    const work = dir();
    const data = path.join(work, 'data');
    const file = path.join(work, 'b.db');
    const a = await server(data);
    const api = new Client(a.url, ADMIN_KEY);
    expect((await api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/x' })).status).toBe(201);

    const first = await cli(['backup', file, '--data-dir', data]);
    expect(first.code, first.stderr).toBe(0);
    // Without --include-master-key: the key stays out, and the user is told where it is.
    expect(first.stderr).toContain(`does not hold the master key (${path.join(data, 'master.key')})`);
    expect(fs.existsSync(`${file}.master.key`)).toBe(false);
    const before = fs.readFileSync(file);

    const again = await cli(['backup', file, '--data-dir', data]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; pass --force');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const forced = await cli(['backup', file, '--data-dir', data, '--force']);
    expect(forced.code, forced.stderr).toBe(0);

    const intoOwnStore = await cli(['backup', path.join(data, 'hookbridge.db'), '--data-dir', data, '--force']);
    expect(intoOwnStore.code).toBe(2);

    const overRunning = await cli(['restore', file, '--data-dir', data, '--force']);
    expect(overRunning.code).toBe(1);
    expect(overRunning.stderr).toContain('a server is running on');
    expect((await api.get('/v1/endpoints')).status, 'the running server is unharmed').toBe(200);

    // A second endpoint after the backup, then kill -9: the store's -wal holds the latest commits.
    expect((await api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/y' })).status).toBe(201);
    await kill(a.child);
    expect(fs.existsSync(path.join(data, 'hookbridge.db-wal'))).toBe(true);

    // With no server, the CLI opens the store itself (recovering the WAL), and copies it whole.
    const killed = path.join(work, 'killed');
    fs.cpSync(data, killed, { recursive: true, filter: (f) => !f.endsWith('control.sock') });
    const offlineFile = path.join(work, 'offline.db');
    const offline = await cli(['backup', offlineFile, '--data-dir', killed]);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('made by the stopped store');
    expect(endpointsIn(offlineFile)).toBe(2);

    const overExisting = await cli(['restore', file, '--data-dir', data]);
    expect(overExisting.code).toBe(1);
    expect(overExisting.stderr).toContain('already has a store; pass --force');
    // --force replaces the store with the older backup: nothing of the newer store (its WAL
    // included) may show through.
    const replaced = await cli(['restore', file, '--data-dir', data, '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain('the previous store was replaced');
    expect(replaced.stderr).toContain(`${path.join(data, 'master.key')} opens the backup's secrets`);
    const b = await server(data);
    const listed = await new Client(b.url, ADMIN_KEY).get('/v1/endpoints');
    expect(listed.body.data.map((e: any) => e.url)).toEqual(['http://127.0.0.1:9/x']);
  }, 120_000);

  it('checks the master key: none, or a different one in the data dir, is refused', async () => {
    const work = dir();
    const data = path.join(work, 'data');
    const file = path.join(work, 'b.db');
    const a = await server(data);
    expect((await new Client(a.url, ADMIN_KEY).post('/v1/endpoints', { url: 'http://127.0.0.1:9/x' })).status).toBe(201);
    expect((await cli(['backup', file, '--data-dir', data])).code).toBe(0);
    await kill(a.child, 'SIGTERM');

    const noKey = await cli(['restore', file, '--data-dir', path.join(work, 'fresh')]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('no master key for this backup');
    expect(fs.existsSync(path.join(work, 'fresh', 'hookbridge.db')), 'nothing restored').toBe(false);

    const other = path.join(work, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'master.key'), Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o600 });
    const wrongKey = await cli(['restore', file, '--data-dir', other]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('does not open the signing secrets');
    const conflicting = await cli(['restore', file, '--data-dir', other, '--master-key-file', path.join(data, 'master.key')]);
    expect(conflicting.code).toBe(1);
    expect(conflicting.stderr).toContain('differs from the backup');
    expect(fs.readdirSync(other)).toEqual(['master.key']);

    const wrongEnv = await cli(['restore', file, '--data-dir', path.join(work, 'env')], { HOOKBRIDGE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') });
    expect(wrongEnv.code).toBe(1);
    expect(wrongEnv.stderr).toContain('HOOKBRIDGE_MASTER_KEY does not open');

    const withKey = await cli(['restore', file, '--data-dir', path.join(work, 'fresh'), '--master-key-file', path.join(data, 'master.key')]);
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(fs.readFileSync(path.join(work, 'fresh', 'master.key'), 'utf8')).toBe(fs.readFileSync(path.join(data, 'master.key'), 'utf8'));
  }, 120_000);

  it('refuses a file that is not a Hookbridge backup, and PostgreSQL configurations', async () => {
    const work = dir();
    const target = path.join(work, 'target');
    const text = path.join(work, 'notes.txt');
    fs.writeFileSync(text, 'this is not a database\n'.repeat(200));
    const plain = path.join(work, 'other.db');
    const db = new Database(plain);
    db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
    db.close();

    const notDb = await cli(['restore', text, '--data-dir', target]);
    expect(notDb.code).toBe(1);
    expect(notDb.stderr).toMatch(/not a usable SQLite database.*nothing was changed/);
    const notOurs = await cli(['restore', plain, '--data-dir', target]);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toContain('not a Hookbridge store');
    const absent = await cli(['restore', path.join(work, 'nope.db'), '--data-dir', target]);
    expect(absent.code).toBe(1);
    expect(fs.readdirSync(target), 'no store, no temporary file left').toEqual([]);

    const pg = { HOOKBRIDGE_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/hookbridge', HOOKBRIDGE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    for (const args of [
      ['backup', path.join(work, 'pg.db')],
      ['restore', plain],
    ]) {
      const r = await cli(args, pg);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('pg_dump');
    }
    const noStore = await cli(['backup', path.join(work, 'x.db'), '--data-dir', path.join(work, 'empty')]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toContain('no embedded store');
  }, 60_000);
});
