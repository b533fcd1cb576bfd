import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
