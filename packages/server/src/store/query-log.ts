/** Times every statement Kysely runs, for the store-latency histogram (src/ops/metrics.ts). */
import type { KyselyConfig } from 'kysely';

/** Told the SQL text and how long it ran, for every statement (failed ones too). */
export type QueryObserver = (sql: string, durationMs: number) => void;

/** Kysely's `log` option for an observer; undefined (Kysely then times nothing) without one. */
export function queryLog(observe: QueryObserver | undefined): KyselyConfig['log'] {
  return observe ? (event) => observe(event.query.sql, event.queryDurationMillis) : undefined;
}
