/**
 * Tells worker processes that new work may be due. In one process the API wakes its worker
 * directly, so the embedded store needs nothing; with PostgreSQL, API and worker processes are
 * apart and the signal travels through LISTEN/NOTIFY. Workers still poll slowly as a safety net:
 * a lost notification only delays work, it never loses it.
 */
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './schema.js';

export interface WorkSignal {
  /** Tells other processes' workers to look for work (coalesced: at most one per tick). */
  notifyOthers(): void;
  /** Calls `listener` whenever another process signals work (and after a reconnect). */
  subscribe(listener: () => void): void;
  close(): Promise<void>;
}

export const noWorkSignal: WorkSignal = {
  notifyOthers: () => undefined,
  subscribe: () => undefined,
  close: async () => undefined,
};

const CHANNEL = 'hookbridge_work';

export class PostgresWorkSignal implements WorkSignal {
  private pending = false;
  private listener: pg.Client | null = null;
  private closed = false;
  private retryMs = 500;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  notifyOthers(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      sql`select pg_notify(${CHANNEL}, '')`.execute(this.db).catch((err) => this.log.warn({ err }, 'could not signal workers; they will poll'));
    });
  }

  subscribe(listener: () => void): void {
    void this.listen(listener);
  }

  /** A dedicated connection (a pooled one would lose its LISTEN), reconnected with backoff. */
  private async listen(listener: () => void): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    const retry = () => {
      if (this.closed || this.listener !== client) return;
      this.listener = null;
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
      setTimeout(() => void this.listen(listener), this.retryMs).unref();
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    };
    this.listener = client;
    client.on('error', (err) => {
      this.log.warn({ err }, 'work-signal connection lost; reconnecting');
      retry();
    });
    client.on('end', retry);
    client.on('notification', () => listener());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.retryMs = 500;
      // Whatever was signalled while we were not listening: look once.
      listener();
    } catch (err) {
      this.log.warn({ err }, 'could not listen for work signals; retrying');
      retry();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.listener = null;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
