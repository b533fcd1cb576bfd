/**
 * Opens the PostgreSQL store (HOOKBRIDGE_DATABASE_URL): a pg pool behind Kysely's PostgresDialect.
 * Any number of Hookbridge processes may share one database.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { queryLog, type QueryObserver } from './query-log.js';
import type { Database as Schema } from './schema.js';

// int8 columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers
// (pg returns them as strings by default).
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Kysely runs every statement through pg's promise form, client.query(text, values). That form
 * leaves a page of rows' worth of short-lived garbage to survive into V8's old generation at each
 * minor GC, which is only reclaimed by the next full GC: streaming an export of 100,000 deliveries
 * grew the server's RSS by ~50 MB with it and by ~5 MB through the callback form (the same query,
 * the same rows; test/export-memory.test.ts). So the promise form is served by the callback form.
 */
function withCallbackQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (text: string, values: unknown[] | undefined, cb: (err: Error | null, res: pg.QueryResult) => void) => void;
  const original = client.query;
  client.query = function (this: pg.PoolClient, text: unknown, values?: unknown, callback?: unknown) {
    if (typeof text !== 'string' || typeof values === 'function' || callback !== undefined) return Reflect.apply(original, client, [...arguments]);
    return new Promise<pg.QueryResult>((resolve, reject) => query(text, values as unknown[] | undefined, (err, res) => (err ? reject(err) : resolve(res))));
  } as typeof client.query;
}

export function openPostgres(url: string, poolSize: number, onError: (err: Error) => void, onQuery?: QueryObserver): { db: Kysely<Schema>; close: () => Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // A client losing its connection must not crash the process: the pool reports idle clients
  // here, but a checked-out client emits on itself, and an EventEmitter 'error' without a
  // listener is an uncaught exception. The query in flight still fails and reports the outage
  // (a 503, /readyz, the worker's retry loop); the pool replaces the client.
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    withCallbackQueries(client);
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log: queryLog(onQuery) });
  return { db, close: () => pool.end() };
}
