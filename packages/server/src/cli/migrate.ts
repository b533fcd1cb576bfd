import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';

/**
 * `hookbridge migrate`: brings the store's schema up to date and exits. `serve` does this on
 * start too; running it on its own lets a deployment migrate before rolling out new processes.
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Bring the store schema up to date (the embedded store, or PostgreSQL with HOOKBRIDGE_DATABASE_URL), then exit.')
    .option('--data-dir <dir>', 'embedded store directory (HOOKBRIDGE_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL instead of the embedded store (HOOKBRIDGE_DATABASE_URL)')
    .addHelpText('after', '\nExamples:\n  $ hookbridge migrate\n  $ HOOKBRIDGE_DATABASE_URL=postgres://hb@db/hookbridge HOOKBRIDGE_MASTER_KEY=… hookbridge migrate')
    .action(async (flags: { dataDir?: string; databaseUrl?: string }) => {
      try {
        const config = loadConfig(process.env, flags);
        const { Store } = await import('../store/store.js'); // loaded only when this command runs
        const store = await Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, masterKey: config.masterKey, dbPoolSize: 1 });
        await store.close();
        process.stdout.write(`schema is up to date (${config.databaseUrl ? 'PostgreSQL' : config.dataDir})\n`);
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`hookbridge: ${e.message}\n`);
          process.exit(2);
        }
        process.stderr.write(`hookbridge: migration failed: ${(e as Error).message}\n`);
        process.exit(1);
      }
    });
}
