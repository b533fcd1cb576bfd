import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from './api.js';
import { embeddedStoreSettings, fail, formatBytes } from './embedded-store.js';
import { err, progressBar } from './output.js';

interface BackupFlags {
  dataDir?: string;
  force?: boolean;
  includeMasterKey?: boolean;
}

/**
 * `hookbridge backup <file>`: a consistent copy of the embedded store, taken while the server
 * runs. The running server makes it (ops/control-socket.ts), since it alone can read its locked
 * store; with no server running the command opens the store itself.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('Copy the embedded store into <file>, consistently, while the server keeps running (PostgreSQL: use pg_dump).')
    .argument('<file>', 'where to write the backup (the server writes it: a path the server can reach)')
    .option('--data-dir <dir>', 'the embedded store (HOOKBRIDGE_DATA_DIR)')
    .option('--force', 'replace <file> (and <file>.master.key) if it exists')
    .option('--include-master-key', 'also write the master key beside the backup as <file>.master.key (mode 0600); store it apart from the backup')
    .addHelpText(
      'after',
      `
The copy is a single SQLite file (mode 0600) and consistent: SQLite's online backup API copies
the store as of the moment the copy ends, and the server keeps accepting and delivering
meanwhile. It is written to <file>.partial, synced, then renamed, so <file> is always whole.
The endpoints' signing secrets in it are sealed under the master key, which is NOT in the
backup unless --include-master-key: keep the key apart from the backups, and safe.

Examples:
  $ hookbridge backup /var/backups/hookbridge-$(date +%F).db --data-dir /var/lib/hookbridge
  $ hookbridge backup ./hb.db --include-master-key     # writes ./hb.db and ./hb.db.master.key

Exit codes: 0 written, 1 failed or refused (<file> exists, no store in the data dir), 2 bad
usage or configuration (PostgreSQL is configured, the directory of <file> does not exist).`,
    )
    .action(async (file: string, flags: BackupFlags) => {
      process.exitCode = await backup(file, flags);
    });
}

async function backup(target: string, flags: BackupFlags): Promise<number> {
  const settings = embeddedStoreSettings('backup copies', flags.dataDir);
  if (typeof settings === 'number') return settings;
  const { dataDir, masterKey: envMasterKey } = settings;
  const file = path.resolve(target);
  const keyCopy = `${file}.master.key`;
  if (!fs.existsSync(path.dirname(file))) return fail(EXIT.usage, `the directory ${path.dirname(file)} does not exist`);
  const [{ backupDatabase, isStoreFile }, { readMasterKey, writeMasterKey }, { requestBackup, ControlError }, { openLocked, DataDirLockedError }] = await Promise.all([
    import('../store/backup.js'),
    import('../store/restore.js'),
    import('../ops/control-socket.js'),
    import('../store/sqlite.js'),
  ]);
  if (isStoreFile(dataDir, file)) return fail(EXIT.usage, `${file} is a file of the store itself; write the backup elsewhere`);
  const dbFile = path.join(dataDir, 'hookbridge.db');
  if (!fs.existsSync(dbFile)) return fail(EXIT.refused, `no embedded store in ${dataDir} (set --data-dir or HOOKBRIDGE_DATA_DIR)`);
  for (const f of flags.includeMasterKey ? [file, keyCopy] : [file]) {
    if (!flags.force && fs.existsSync(f)) return fail(EXIT.refused, `${f} exists; pass --force to replace it`);
  }
  const keyFile = path.join(dataDir, 'master.key');
  const keyWhere = envMasterKey !== undefined ? 'HOOKBRIDGE_MASTER_KEY (in the environment)' : keyFile;
  let masterKey: Buffer | undefined;
  if (flags.includeMasterKey) {
    try {
      masterKey = envMasterKey !== undefined ? Buffer.from(envMasterKey, 'base64') : readMasterKey(keyFile);
    } catch (e) {
      return fail(EXIT.refused, `--include-master-key: ${(e as Error).message}`);
    }
  }

  const progress = progressLine(`backing up ${dataDir}`);
  const started = Date.now();
  let result;
  let via = 'the running server';
  try {
    result = (await requestBackup(dataDir, { file, force: flags.force }, progress.update))?.result;
    if (!result) {
      // Nobody listens on the control socket: no server runs, so this process may hold the store.
      via = 'the stopped store';
      const sqlite = openLocked(dbFile, dataDir, { fileMustExist: true });
      try {
        result = await backupDatabase(sqlite, file, { onProgress: progress.update });
      } finally {
        sqlite.close();
      }
    }
  } catch (e) {
    progress.clear();
    if (e instanceof DataDirLockedError) {
      return fail(EXIT.refused, `a server runs on ${dataDir} but does not answer on its control socket (${path.join(dataDir, 'control.sock')}); see its log`);
    }
    if (e instanceof ControlError && e.code === 'exists') return fail(EXIT.refused, e.message);
    return fail(EXIT.refused, `backup failed: ${(e as Error).message}`);
  }
  progress.clear();
  if (masterKey) writeMasterKey(keyCopy, masterKey);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`backup written to ${file}: ${formatBytes(result.bytes)}, ${result.pages} pages, schema ${result.schemaVersion}, ${seconds} s (made by ${via})\n`);
  if (masterKey) {
    err.write(`master key written to ${keyCopy} (mode 0600): keep it apart from the backup, and secret\n`);
  } else {
    err.write(
      `note: the backup does not hold the master key (${keyWhere}); without it the signing secrets in the backup are useless. Keep a copy of the key apart from the backups, or pass --include-master-key.\n`,
    );
  }
  return EXIT.ok;
}


/** Pages done, on a terminal only (piped output stays quiet): output.ts's bar, made once the total is known. */
function progressLine(label: string): { update: (p: { done: number; total: number }) => void; clear: () => void } {
  let bar: ReturnType<typeof progressBar> | null = null;
  return {
    update({ done, total }) {
      if (!process.stderr.isTTY) return;
      bar ??= progressBar(total, label);
      bar.update(done, 'pages', total);
    },
    clear() {
      bar?.clear();
      bar = null;
    },
  };
}

