/**
 * Group commit: write operations submitted in the same tick run in one transaction, so one fsync
 * makes a whole batch durable. A 202 is answered only after the batch's commit returned, so
 * durability costs one fsync per batch rather than one per message.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Durability, StoreDialect } from './dialect.js';
import type { Database } from './schema.js';

export type WriteOp<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  op: WriteOp<unknown>;
  durability: Durability;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  /** A batch is durable when any of its operations asks for it; relaxed ones then ride along. */
  run<T>(op: WriteOp<T>, durability: Durability = 'durable'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, durability, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.queue;
    this.queue = [];
    try {
      const durability = batch.some((p) => p.durability === 'durable') ? 'durable' : 'relaxed';
      const results = await this.dialect.transaction(this.db, durability, async (trx) => {
        const out: unknown[] = [];
        for (const p of batch) out.push(await p.op(trx));
        return out;
      });
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch {
      // One operation failed and rolled the batch back: run each alone so the others still
      // commit and only the faulty one sees its error.
      for (const p of batch) {
        try {
          p.resolve(await this.dialect.transaction(this.db, p.durability, p.op));
        } catch (e) {
          p.reject(e);
        }
      }
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
