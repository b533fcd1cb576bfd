import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import type { Store } from '../store/store.js';

/**
 * `hookbridge migrate-store`: moves a deployment from the embedded store to PostgreSQL. The
 * embedded server must be stopped (its data dir is locked while it runs).
 */
export function registerMigrateStore(program: Command): void {
  program
    .command('migrate-store')
    .description('Copy the embedded store into an empty PostgreSQL database (stop the embedded server first).')
    .requiredOption('--to <postgres-url>', 'the target database (HOOKBRIDGE_MASTER_KEY is its master key)')
    .option('--data-dir <dir>', 'the embedded store to copy from (HOOKBRIDGE_DATA_DIR)')
    .addHelpText(
      'after',
      `
Copies projects, API keys (they keep working), event types, endpoints with their current signing
secrets (re-encrypted under HOOKBRIDGE_MASTER_KEY), and every message that still has a delivery to
make, with those deliveries and their attempts so far. Not copied: finished deliveries (succeeded,
failed, cancelled), their messages and attempts, deleted endpoints, expired secrets. The target
database must be empty; the copy is one transaction.

Example:
  $ HOOKBRIDGE_MASTER_KEY=$(openssl rand -base64 32) hookbridge migrate-store --to postgres://hb@db/hookbridge`,
    )
    .action(async (flags: { to: string; dataDir?: string }) => {
      let from: Store | undefined;
      let to: Store | undefined;
      try {
        const config = loadConfig({ ...process.env, HOOKBRIDGE_DATABASE_URL: flags.to }, { dataDir: flags.dataDir });
        // Loaded only when this command runs, so the client commands start fast.
        const [{ Store }, { copyStore }] = await Promise.all([import('../store/store.js'), import('../store/copy-store.js')]);
        // The source's master key is the one in its data dir (or HOOKBRIDGE_SOURCE_MASTER_KEY).
        from = await Store.openEmbedded({ dataDir: config.dataDir, masterKey: process.env.HOOKBRIDGE_SOURCE_MASTER_KEY });
        to = await Store.openPostgres({ dataDir: config.dataDir, databaseUrl: flags.to, masterKey: config.masterKey, dbPoolSize: 2 });
        process.stdout.write(`copying ${config.dataDir} → PostgreSQL\n`);
        await copyStore(from, to, (line) => process.stdout.write(`  ${line}\n`));
        process.stdout.write('done. Point HOOKBRIDGE_DATABASE_URL at the new database and start the servers.\n');
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`hookbridge: ${e.message}\n`);
          process.exitCode = 2;
        } else {
          process.stderr.write(`hookbridge: migrate-store failed, nothing was copied: ${(e as Error).message}\n`);
          process.exitCode = 1;
        }
      } finally {
        await from?.close();
        await to?.close();
      }
    });
}
