import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from './api.js';
import { embeddedStoreSettings, fail, formatBytes } from './embedded-store.js';
import { err } from './output.js';

interface RestoreFlags {
  dataDir?: string;
  force?: boolean;
  masterKeyFile?: string;
}

/** `hookbridge restore <file>`: puts a backup made by `hookbridge backup` in place of the store. */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('Replace the embedded store with a backup made by `hookbridge backup` (stop the server first).')
    .argument('<file>', 'the backup')
    .option('--data-dir <dir>', 'the embedded store to restore into (HOOKBRIDGE_DATA_DIR)')
    .option('--force', 'replace an existing store and a different master.key; restore even if no master key opens the backup\'s secrets')
    .option('--master-key-file <file>', "the backup's master key (default: <file>.master.key when it exists)")
    .addHelpText(
      'after',
      `
Checks the backup (SQLite integrity_check, that it is a Hookbridge store this version can open,
that the master key opens its signing secrets) before anything in the data dir changes, then
copies it next to the store, syncs it and renames it into place. The master key installed is
the backup's (<file>.master.key or --master-key-file); without one, the data dir's master.key or
HOOKBRIDGE_MASTER_KEY must be the key the backup was made with. Deliveries that were in flight
when the backup was taken are sent again by the next start (at-least-once).

Examples:
  $ hookbridge restore /var/backups/hookbridge-2025-01-31.db --data-dir /var/lib/hookbridge
  $ hookbridge restore ./hb.db --data-dir ./new-dir --master-key-file ./hb.db.master.key
  $ hookbridge restore ./hb.db --force     # replace the store in ./.hookbridge

Exit codes: 0 restored, 1 refused or failed (a server runs on the data dir, a store exists
without --force, not a Hookbridge backup, master key missing or wrong), 2 bad usage or
configuration (PostgreSQL is configured).`,
    )
    .action(async (file: string, flags: RestoreFlags) => {
      process.exitCode = await restore(file, flags);
    });
}

async function restore(target: string, flags: RestoreFlags): Promise<number> {
  const settings = embeddedStoreSettings('restore replaces', flags.dataDir);
  if (typeof settings === 'number') return settings;
  const { dataDir, masterKey: envMasterKey } = settings;
  const [{ restoreStore, RestoreRefusedError }, { InvalidStoreFileError }, { DataDirLockedError }] = await Promise.all([
    import('../store/restore.js'),
    import('../store/backup.js'),
    import('../store/sqlite.js'),
  ]);
  const file = path.resolve(target);
  let result;
  try {
    result = restoreStore({ dataDir, file, force: Boolean(flags.force), masterKeyFile: flags.masterKeyFile && path.resolve(flags.masterKeyFile), envMasterKey });
  } catch (e) {
    if (e instanceof DataDirLockedError) return fail(EXIT.refused, `a server is running on ${dataDir}; stop it before restoring (nothing was changed)`);
    if (e instanceof RestoreRefusedError || e instanceof InvalidStoreFileError) return fail(EXIT.refused, `${e.message} (nothing was changed)`);
    return fail(EXIT.refused, `restore failed: ${(e as Error).message}`);
  }
  const { info } = result;
  process.stdout.write(
    `restored ${file} into ${dataDir}${result.replacedStore ? ' (the previous store was replaced)' : ''}: ${info.projects} projects, ${info.messages} messages, schema ${info.schemaVersion}, ${formatBytes(result.bytes)}\n`,
  );
  const key = {
    installed: `master key installed as ${path.join(dataDir, 'master.key')} (mode 0600)`,
    'data dir': `master key: ${path.join(dataDir, 'master.key')} opens the backup's secrets`,
    environment: 'master key: HOOKBRIDGE_MASTER_KEY opens the backup\'s secrets; start the server with it set',
    'none needed': 'master key: the backup has no signing secrets; the server creates a key on its first start if there is none',
    'missing (forced)': 'warning: no master key for this backup (--force): the server will create a new one, which cannot open the signing secrets in the backup',
    'does not match (forced)': 'warning: the master key does not open the backup\'s secrets (--force): signing will fail until the right key is in place',
  }[result.masterKey];
  err.write(`${key}\nstart the server now; deliveries that were in flight when the backup was taken are sent again (at-least-once).\n`);
  return EXIT.ok;
}

