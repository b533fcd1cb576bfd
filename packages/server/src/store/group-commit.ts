/**
 * Group commit: write operations submitted in the same tick run in one transaction, so one fsync
 * makes a whole batch durable. A 202 is answered only after the batch's commit returned, so
 * durability costs one fsync per batch rather than one per message.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type WriteOp<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  op: WriteOp<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(private readonly db: Kysely<Database>) {}

  run<T>(op: WriteOp<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
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
      const results = await this.db.transaction().execute(async (trx) => {
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
          p.resolve(await this.db.transaction().execute(p.op));
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
