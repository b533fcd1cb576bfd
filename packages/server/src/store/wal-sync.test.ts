import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqliteDialect } from './dialect.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';
import { WalSync } from './wal-sync.js';

/** A file handle whose datasync calls finish only when the test says so. */
function fakeHandle() {
  const pending: Array<() => void> = [];
  let started = 0;
  const open = async () => ({
    datasync: () => {
      started++;
      return new Promise<void>((r) => pending.push(r));
    },
    close: async () => undefined,
  });
  return { open, finishNext: () => pending.shift()!(), get started() { return started; } };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WalSync', () => {
  it('syncs a real file', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'walsync-')), 'x-wal');
    fs.writeFileSync(file, 'frames');
    const w = new WalSync(file);
    await w.sync();
    await w.close();
  });

  it('a request made while a sync runs waits for the next one; several such share it', async () => {
    const h = fakeHandle();
    const w = new WalSync('unused', h.open);
    let firstDone = false;
    let laterDone = 0;
    void w.sync().then(() => (firstDone = true));
    await tick();
    expect(h.started).toBe(1);
    for (let i = 0; i < 3; i++) void w.sync().then(() => laterDone++);
    h.finishNext();
    await tick();
    expect(firstDone).toBe(true);
    expect(laterDone).toBe(0); // their commits may postdate the first sync's start
    expect(h.started).toBe(2); // one more sync for all three
    h.finishNext();
    await tick();
    expect(laterDone).toBe(3);
    expect(h.started).toBe(2);
  });

  it('reports a failed sync and opens the file again next time', async () => {
    let opens = 0;
    const w = new WalSync('unused', async () => {
      opens++;
      return { datasync: async () => { if (opens === 1) throw new Error('EIO'); }, close: async () => undefined };
    });
    await expect(w.sync()).rejects.toThrow('EIO');
    await w.sync();
    expect(opens).toBe(2);
  });
});

describe('the SQLite dialect with WalSync', () => {
  it('answers a durable transaction only after the WAL sync, a relaxed one without waiting for it', async () => {
    const { db, close } = openSqlite(fs.mkdtempSync(path.join(os.tmpdir(), 'walsync-dialect-')));
    let release!: () => void;
    let syncs = 0;
    const dialect = sqliteDialect({
      sync: () => {
        syncs++;
        return new Promise<void>((r) => (release = r));
      },
    });
    const write = (trx: Transaction<Database>, id: string) => trx.insertInto('projects').values({ id, name: id, settings: '{}', created_at: 0 }).execute();
    await migrateToLatest(db);
    let durableDone = false;
    const durable = dialect.transaction(db, 'durable', (trx) => write(trx, 'p_durable')).then(() => (durableDone = true));
    await tick();
    await tick();
    expect(syncs).toBe(1);
    expect(durableDone).toBe(false); // committed, but not yet acknowledged
    await dialect.transaction(db, 'relaxed', (trx) => write(trx, 'p_relaxed')); // runs while the sync is pending
    expect(syncs).toBe(1);
    release();
    await durable;
    expect(durableDone).toBe(true);
    expect((await db.selectFrom('projects').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['p_durable', 'p_relaxed']);
    await db.destroy();
    await close();
  });
});
