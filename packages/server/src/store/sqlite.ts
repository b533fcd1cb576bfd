/**
 * Opens the embedded store: better-sqlite3 in WAL mode with synchronous=FULL, which makes every
 * commit power-safe (the WAL is fsync'd before COMMIT returns).
 *
 * locking_mode=EXCLUSIVE takes an OS lock on the database file for as long as this process
 * lives, so a second server on the same data dir fails at once with a clear message, and the lock
 * vanishes with the process however it died (kill -9 included) — no stale lock file to clean.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database as Schema } from './schema.js';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

export function openSqlite(dataDir: string): { db: Kysely<Schema>; close: () => void } {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'hookbridge.db');
  const sqlite = new Database(file);
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
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}
