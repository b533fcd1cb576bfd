/**
 * Backups of the embedded store with SQLite's online backup API. The copy is made through the
 * connection that owns the store: a running server holds an exclusive lock on hookbridge.db
 * (sqlite.ts), so no other process can even read it, and a backup made by the owner sees every
 * commit, including those made while it copies (SQLite updates the copy as the same connection
 * writes). Between steps the event loop runs, so the API and the worker keep going.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KNOWN_MIGRATIONS } from './migrate.js';

export interface BackupProgress {
  /** Pages copied so far of `total` (the store may grow while it is copied). */
  done: number;
  total: number;
}

export interface BackupOptions {
  onProgress?: (p: BackupProgress) => void;
  /** Aborts the copy (the partial file is removed). */
  signal?: AbortSignal;
}

export interface BackupResult {
  bytes: number;
  pages: number;
  /** The newest migration applied in the copy, e.g. `004_operations`. */
  schemaVersion: string;
}

/** About 1 MiB per step with 4 KiB pages: a few milliseconds of the event loop each. */
const PAGES_PER_STEP = 256;
/** A step is refused while the store's connection is inside a write transaction; those are short. */
const STALL_LIMIT_MS = 60_000;
const BUSY_RETRIES = 20;

/**
 * Copies the database open in `source` to `file`: into `<file>.partial` (mode 0600: the copy holds
 * API key hashes, sealed secrets and payloads), turned into a single self-contained file
 * (rollback-journal mode, no -wal beside it), fsync'd, then renamed into place. An existing
 * `file` is replaced; callers decide whether that is allowed.
 */
export async function backupDatabase(source: Database.Database, file: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const partial = `${file}.partial`;
  removeCopy(partial);
  fs.closeSync(fs.openSync(partial, 'wx', 0o600));
  try {
    let lastDone = -1;
    let lastMovedAt = Date.now();
    const copy = () => source.backup(partial, {
      progress: ({ totalPages: total, remainingPages }) => {
        opts.signal?.throwIfAborted();
        const done = total - remainingPages;
        if (done !== lastDone) {
          lastDone = done;
          lastMovedAt = Date.now();
        } else if (Date.now() - lastMovedAt > STALL_LIMIT_MS) {
          throw new Error(`the backup made no progress for ${STALL_LIMIT_MS / 1000} s (the store stayed locked)`);
        }
        opts.onProgress?.({ done, total });
        return PAGES_PER_STEP;
      },
    });
    // better-sqlite3 reports a first step that met SQLITE_BUSY (a write transaction open on the
    // source) as a finished backup of 0 pages: an empty file, not a copy. Try again shortly.
    let { totalPages } = await copy();
    for (let tries = 1; totalPages === 0 && tries < BUSY_RETRIES; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      opts.signal?.throwIfAborted();
      ({ totalPages } = await copy());
    }
    opts.signal?.throwIfAborted();
    if (totalPages === 0) throw new Error('the store stayed busy when the copy started; run the backup again');
    const schemaVersion = settleCopy(partial);
    fsyncFile(partial);
    fs.renameSync(partial, file);
    fsyncDir(path.dirname(file));
    return { bytes: fs.statSync(file).size, pages: totalPages, schemaVersion };
  } catch (e) {
    removeCopy(partial);
    throw e;
  }
}

/** The copy takes the source's WAL mode; a backup is better as one file that opens anywhere. */
function settleCopy(file: string): string {
  const copy = new Database(file, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    return schemaVersionOf(copy);
  } finally {
    copy.close();
  }
}

function schemaVersionOf(db: Database.Database): string {
  const row = db.prepare('SELECT max(name) AS name FROM kysely_migration').get() as { name: string | null };
  return row.name ?? '(none)';
}

export class InvalidStoreFileError extends Error {
  override name = 'InvalidStoreFileError';
}

export interface StoreFileInfo {
  schemaVersion: string;
  projects: number;
  messages: number;
  /** One sealed signing secret (or inbound verification), to check a master key against; null if none. */
  sealedSample: string | null;
}

/**
 * Checks that `file` is an intact Hookbridge store this build can open: SQLite's integrity_check
 * passes, it has Hookbridge's migration table and projects, and no migration newer than this
 * build's. Throws InvalidStoreFileError saying what is wrong.
 */
export function checkStoreFile(file: string): StoreFileInfo {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (e) {
    throw new InvalidStoreFileError(`cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    let problems: string[];
    try {
      problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).filter((r) => r !== 'ok');
    } catch (e) {
      // SQLITE_NOTADB, SQLITE_CORRUPT: not a database at all, or too damaged to read.
      throw new InvalidStoreFileError(`${file} is not a usable SQLite database (${(e as Error).message})`);
    }
    if (problems.length > 0) throw new InvalidStoreFileError(`${file} is damaged: ${problems.slice(0, 3).join('; ')}`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    if (!tables.has('kysely_migration') || !tables.has('projects')) throw new InvalidStoreFileError(`${file} is a SQLite database but not a Hookbridge store`);
    const applied = (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name);
    const unknown = applied.filter((m) => !KNOWN_MIGRATIONS.includes(m));
    if (unknown.length > 0) throw new InvalidStoreFileError(`${file} was made by a newer Hookbridge (schema ${unknown[unknown.length - 1]}); upgrade before restoring it`);
    const count = (table: string) => (tables.has(table) ? (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n : 0);
    const sample =
      (db.prepare('SELECT secret_enc AS s FROM endpoint_secrets LIMIT 1').get() as { s: string } | undefined) ??
      (tables.has('inbound_endpoints') ? (db.prepare('SELECT verification_enc AS s FROM inbound_endpoints LIMIT 1').get() as { s: string } | undefined) : undefined);
    return { schemaVersion: schemaVersionOf(db), projects: count('projects'), messages: count('messages'), sealedSample: sample?.s ?? null };
  } finally {
    db.close();
  }
}

/** Removes a database file and whatever SQLite may have left beside it. */
export function removeCopy(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
}

export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a rename in `dir` durable. Not every platform can fsync a directory; then the OS decides. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on platforms without directory fsync.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether `file` is one of the data dir's own files, which a backup must never replace. */
export function isStoreFile(dataDir: string, file: string): boolean {
  const own = ['hookbridge.db', 'hookbridge.db-wal', 'hookbridge.db-shm', 'hookbridge.db-journal', 'master.key', 'control.sock'];
  return path.resolve(path.dirname(file)) === path.resolve(dataDir) && own.includes(path.basename(file));
}
