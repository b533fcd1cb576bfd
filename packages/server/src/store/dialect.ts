/**
 * The one seam where SQL engines differ (modelled on pg-boss's dialect.ts). Queries elsewhere are
 * plain Kysely and portable; anything engine-specific asks the dialect. Only SQLite exists so far;
 * the PostgreSQL store adds its half here (FOR UPDATE SKIP LOCKED in the claim, LISTEN/NOTIFY).
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * Locks the rows a claim query selects. SQLite needs nothing: a write transaction holds the
   * whole database. PostgreSQL will use FOR UPDATE SKIP LOCKED so claimers never wait on each other.
   */
  lockForClaim<DB, TB extends keyof DB, O>(qb: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /** Maps a driver error to our error vocabulary (SQLSTATE-style). */
  errorCode(err: unknown): 'unique_violation' | 'busy' | 'unknown';
  /** Cheap query proving the store answers (for /readyz). */
  ping(db: Kysely<Database>): Promise<void>;
}

export const sqliteDialect: StoreDialect = {
  name: 'sqlite',
  lockForClaim: (qb) => qb,
  errorCode(err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique_violation';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'busy';
    return 'unknown';
  },
  async ping(db) {
    await db.selectFrom('projects').select('id').limit(1).execute();
  },
};
