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
  // A client losing its connection must not crash the process: the pool reports idle clients
  // here, but a checked-out client emits on itself, and an EventEmitter 'error' without a
  // listener is an uncaught exception. The query in flight still fails and reports the outage
  // (a 503, /readyz, the worker's retry loop); the pool replaces the client.
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => pool.end() };
}
