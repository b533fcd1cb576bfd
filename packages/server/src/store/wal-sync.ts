/**
 * Makes the embedded store's commits durable without blocking the event loop.
 *
 * With synchronous=FULL, better-sqlite3 fsyncs the WAL inside COMMIT, on the main thread: every
 * durable commit stopped the API and the worker for the length of an fsync (~1.7 ms here, a
 * seventh of the accept path's time in bench W1). Durable transactions now commit with
 * synchronous=NORMAL (the commit frames are written to the WAL, not synced) and then wait for an
 * fdatasync of the WAL file that runs in libuv's thread pool; only then is anything acknowledged.
 *
 * Why that is as durable as FULL: fdatasync flushes every written page of the file, whichever
 * descriptor wrote it, so once it returns, the commit frames and every frame before them are on
 * disk. If a checkpoint copied the frames into the database file first, SQLite had synced the WAL
 * before copying and syncs the database after, so the data is durable there. The WAL file keeps
 * its inode while the connection is open (locking_mode=EXCLUSIVE, one connection).
 *
 * Syncs coalesce: a request made while one runs waits for the next one, which covers every commit
 * made before it started.
 */
import fs from 'node:fs';

type Handle = Pick<fs.promises.FileHandle, 'datasync' | 'close'>;

export class WalSync {
  private fd: Promise<Handle> | null = null;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly walPath: string,
    private readonly open: (path: string) => Promise<Handle> = (p) => fs.promises.open(p, 'r+'),
  ) {}

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.syncOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // The running sync may have started before the caller's commit: wait for the next one.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = null;
    return this.sync();
  }

  private async syncOnce(): Promise<void> {
    this.fd ??= this.open(this.walPath);
    try {
      await (await this.fd).datasync();
    } catch (err) {
      this.fd = null; // open again next time
      throw err;
    }
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    await this.running?.catch(() => undefined);
    await (await fd?.catch(() => null))?.close();
  }
}
