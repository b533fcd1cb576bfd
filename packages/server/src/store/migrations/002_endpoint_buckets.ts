import type { Kysely } from 'kysely';

/**
 * Rate-limit buckets shared by every worker process (PostgreSQL): one row per rate-limited
 * endpoint, read and written inside the claim under the endpoint's advisory lock.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('endpoint_buckets')
    .addColumn('endpoint_id', 'text', (c) => c.primaryKey())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('refilled_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('endpoint_buckets').execute();
}
