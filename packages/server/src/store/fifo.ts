/** The fifo line of an endpoint: deliveries behind its head wait with next_attempt_at = null. */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Makes the head of a fifo line due once the delivery before it left the line (succeeded,
 * failed, cancelled). Deliveries behind the head wait with next_attempt_at = null.
 */
export async function promoteFifoHead(trx: Kysely<Database>, endpointId: string, now: number): Promise<void> {
  const head = await trx
    .selectFrom('deliveries')
    .select(['id', 'status', 'next_attempt_at'])
    .where('endpoint_id', '=', endpointId)
    .where(sql<boolean>`status in ('queued', 'pending_retry', 'delivering', 'paused')`)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  if (head && head.next_attempt_at === null) {
    await trx.updateTable('deliveries').set({ next_attempt_at: now, updated_at: now }).where('id', '=', head.id).execute();
  }
}

/**
 * Whether a fifo endpoint already has a line: a new delivery then waits behind it with no due
 * time (promoteFifoHead makes it due), so claims never scan a long line row by row.
 */
export async function fifoLineWaiting(trx: Kysely<Database>, endpointId: string): Promise<boolean> {
  const inLine = await trx
    .selectFrom('deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where(sql<boolean>`status in ('queued', 'pending_retry', 'delivering', 'paused')`)
    .limit(1)
    .executeTakeFirst();
  return inLine !== undefined;
}
