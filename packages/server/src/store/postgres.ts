/**
 * Opens the PostgreSQL store (HOOKBRIDGE_DATABASE_URL): a pg pool behind Kysely's PostgresDialect.
 * Any number of Hookbridge processes may share one database.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from './schema.js';

// int8 columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers
// (pg returns them as strings by default).
pg.types.setTypeParser(20, (v) => Number(v));

export function openPostgres(url: string, poolSize: number, onError: (err: Error) => void): { db: Kysely<Schema>; close: () => Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection must not crash the process; the pool replaces it and
  // the next query reports the outage (to /readyz, to the worker's retry loop).
  pool.on('error', onError);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => pool.end() };
}
