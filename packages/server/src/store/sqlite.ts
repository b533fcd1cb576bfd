/**
 * Opens the embedded store: better-sqlite3 in WAL mode. The connection's default, synchronous=FULL,
 * makes any commit power-safe (the WAL is fsync'd before COMMIT returns); transactions through the
 * dialect commit with NORMAL instead and sync the WAL off the event loop (wal-sync.ts).
 *
 * locking_mode=EXCLUSIVE takes an OS lock on the database file for as long as this process
 * lives, so a second server on the same data dir fails at once with a clear message, and the lock
 * vanishes with the process however it died (kill -9 included) — no stale lock file to clean.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { queryLog, type QueryObserver } from './query-log.js';
import type { Database as Schema } from './schema.js';
import { WalSync } from './wal-sync.js';

/** Distinct SQL texts kept prepared; IN-lists of varying length make the set open-ended. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every statement anew, which profiling showed to cost about as
 * much as running it. Reusing prepared statements is safe here because every query runs to
 * completion synchronously (nothing uses Kysely's stream(), the one caller of iterate()).
 */
function withStatementCache(sqlite: Database.Database) {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        // Map order is insertion order: re-inserting marks the statement as recently used.
        cache.delete(sql);
      } else {
        stmt = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

/**
 * Opens `file` and takes the data dir's lock (see the top of this file); throws
 * DataDirLockedError while another process holds it. Also used by backup and restore when no
 * server runs, so that none can start halfway through.
 */
export function openLocked(file: string, dataDir: string, options?: Database.Options): Database.Database {
  const sqlite = new Database(file, options);
  try {
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.pragma('busy_timeout = 0');
    sqlite.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (e) {
    sqlite.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new DataDirLockedError(`another Hookbridge process is using ${dataDir}; stop it or choose another HOOKBRIDGE_DATA_DIR`);
    }
    throw e;
  }
  return sqlite;
}

export function openSqlite(dataDir: string, onQuery?: QueryObserver): { db: Kysely<Schema>; sqlite: Database.Database; walSync: WalSync; close: () => Promise<void> } {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'hookbridge.db');
  const sqlite = openLocked(file, dataDir);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), log: queryLog(onQuery) });
  const walSync = new WalSync(`${file}-wal`);
  return {
    db,
    sqlite,
    walSync,
    close: async () => {
      await walSync.close();
      if (sqlite.open) sqlite.close();
    },
  };
}
