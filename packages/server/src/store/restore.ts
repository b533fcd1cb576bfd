/**
 * Restores a backup (store/backup.ts) into a data dir, for a server that is not running. Every
 * check runs before anything in the data dir changes: the file is copied next to the store,
 * checked there, and only then renamed over hookbridge.db, so a failed restore leaves the old
 * store as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SecretBox } from '../core/secret-box.js';
import { checkStoreFile, fsyncDir, fsyncFile, removeCopy, type StoreFileInfo } from './backup.js';
import { openLocked } from './sqlite.js';

export class RestoreRefusedError extends Error {
  override name = 'RestoreRefusedError';
}

export interface RestoreOptions {
  dataDir: string;
  /** The backup to restore. */
  file: string;
  /** Replace an existing store or master key, and restore even if no key opens the secrets. */
  force: boolean;
  /** The backup's master key; default `<file>.master.key` when it exists. */
  masterKeyFile?: string;
  /** HOOKBRIDGE_MASTER_KEY: when set, the server uses it, so it must open the backup's secrets. */
  envMasterKey?: string;
}

export interface RestoreResult {
  info: StoreFileInfo;
  replacedStore: boolean;
  /** Where the master key the restored store will use comes from. */
  masterKey: 'installed' | 'data dir' | 'environment' | 'none needed' | 'missing (forced)' | 'does not match (forced)';
  bytes: number;
}

export function restoreStore(opts: RestoreOptions): RestoreResult {
  const dbFile = path.join(opts.dataDir, 'hookbridge.db');
  const keyFile = path.join(opts.dataDir, 'master.key');
  if (!fs.existsSync(opts.file)) throw new RestoreRefusedError(`${opts.file} does not exist`);
  const keySource = opts.masterKeyFile ?? (fs.existsSync(`${opts.file}.master.key`) ? `${opts.file}.master.key` : undefined);
  const backupKey = keySource !== undefined ? readMasterKey(keySource) : undefined;

  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // Holding the old store's lock keeps a server from starting on it halfway; DataDirLockedError
  // (a server runs) goes to the caller as it is.
  let old: Database.Database | null = null;
  const replacing = fs.existsSync(dbFile);
  if (replacing) {
    try {
      old = openLocked(dbFile, opts.dataDir, { fileMustExist: true });
    } catch (e) {
      // A store too damaged to open is what a restore is for; no server can run on it either.
      if (!/^SQLITE_(NOTADB|CORRUPT)/.test((e as { code?: string }).code ?? '')) throw e;
      if (!opts.force) throw new RestoreRefusedError(`${dbFile} is damaged (${(e as Error).message}); pass --force to replace it`);
    }
    if (!opts.force) {
      old?.close();
      throw new RestoreRefusedError(`${opts.dataDir} already has a store; pass --force to replace it`);
    }
  } else {
    // An empty data dir is locked too: a server starting meanwhile would otherwise create a store
    // that the rename below replaces under it, losing whatever it acknowledged.
    old = openLocked(dbFile, opts.dataDir);
  }
  let restored = false;
  const temporary = path.join(opts.dataDir, `hookbridge.db.restore-${randomBytes(4).toString('hex')}`);
  try {
    fs.copyFileSync(opts.file, temporary);
    fs.chmodSync(temporary, 0o600);
    const info = checkStoreFile(temporary);
    fsyncFile(temporary);
    const existingKey = fs.existsSync(keyFile) ? readMasterKey(keyFile) : undefined;
    const masterKey = chooseMasterKey(opts, info, backupKey, existingKey);
    if (old) {
      // Out of WAL mode, the old store has no -wal for its connection to checkpoint or delete
      // when it closes, after the new store (which may have one by then) is in place.
      old.pragma('journal_mode = DELETE');
    }
    for (const f of [`${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) fs.rmSync(f, { force: true });
    fs.renameSync(temporary, dbFile);
    if (masterKey === 'installed') writeMasterKey(keyFile, backupKey!);
    fsyncDir(opts.dataDir);
    restored = true;
    return { info, replacedStore: replacing, masterKey, bytes: fs.statSync(dbFile).size };
  } finally {
    removeCopy(temporary);
    old?.close();
    // The empty store made only to hold the lock goes again if nothing was restored into it.
    if (!replacing && !restored) for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) fs.rmSync(f, { force: true });
  }
}

/**
 * Which key the restored store will be opened with, refusing one that cannot open its secrets:
 * the server would start, but every signature and inbound verification would fail.
 */
function chooseMasterKey(opts: RestoreOptions, info: StoreFileInfo, backupKey: Buffer | undefined, existingKey: Buffer | undefined): RestoreResult['masterKey'] {
  const opens = (key: Buffer) => info.sealedSample === null || canOpen(key, info.sealedSample);
  if (opts.envMasterKey !== undefined) {
    if (opens(Buffer.from(opts.envMasterKey, 'base64'))) return 'environment';
    if (opts.force) return 'does not match (forced)';
    throw new RestoreRefusedError('HOOKBRIDGE_MASTER_KEY does not open the signing secrets in this backup; unset it or set the key the backup was made with (--force restores anyway)');
  }
  if (backupKey) {
    if (!opens(backupKey)) throw new RestoreRefusedError('the backup\'s master key does not open the signing secrets in this backup (a key of another store?)');
    if (existingKey && !existingKey.equals(backupKey) && !opts.force) {
      throw new RestoreRefusedError(`${path.join(opts.dataDir, 'master.key')} exists and differs from the backup's key; pass --force to replace it`);
    }
    return existingKey?.equals(backupKey) ? 'data dir' : 'installed';
  }
  if (existingKey) {
    if (opens(existingKey)) return 'data dir';
    if (opts.force) return 'does not match (forced)';
    throw new RestoreRefusedError(`the master key in ${opts.dataDir} does not open the signing secrets in this backup; give the backup's key with --master-key-file (--force restores anyway)`);
  }
  if (info.sealedSample === null) return 'none needed';
  if (opts.force) return 'missing (forced)';
  throw new RestoreRefusedError(
    'no master key for this backup: put it beside the backup as <file>.master.key, give it with --master-key-file, or set HOOKBRIDGE_MASTER_KEY (--force restores without; the signing secrets are then unusable)',
  );
}

function canOpen(key: Buffer, sealed: string): boolean {
  try {
    new SecretBox(key).open(sealed);
    return true;
  } catch {
    return false;
  }
}

/** A master key file: base64 of 32 bytes, as the embedded store writes it. */
export function readMasterKey(file: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RestoreRefusedError(`cannot read the master key ${file}: ${(e as Error).message}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new RestoreRefusedError(`${file} is not a master key (base64 of 32 bytes)`);
  return key;
}

/** Writes a master key file (mode 0600) through a temporary file, so it is whole or absent. */
export function writeMasterKey(file: string, key: Buffer): void {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temporary, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    fsyncFile(temporary);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
