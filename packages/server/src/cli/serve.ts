import type { Command } from 'commander';
import { ConfigError, loadConfig, SETTINGS, type Config } from '../config.js';

type FlagValues = Partial<Record<keyof Config, string>>;

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('Run the API and the delivery worker (in one process, or apart with --role on PostgreSQL).')
    .addHelpText(
      'after',
      `
Every flag can also be set by its environment variable (the flag wins):
${SETTINGS.map((s) => `  ${s.env.padEnd(38)} ${s.flag}`).join('\n')}

Examples:
  $ hookbridge serve
  $ HOOKBRIDGE_PORT=9000 hookbridge serve --data-dir /var/lib/hookbridge
  $ hookbridge serve --allow-private-networks 127.0.0.0/8,::1/128   # deliver to local test receivers`,
    );
  for (const s of SETTINGS) cmd.option(s.flag, `${s.doc}${s.default !== undefined && s.default !== '' ? ` (default: ${s.default})` : ''}`);
  cmd.action(async (flags: FlagValues) => {
    let config: Config;
    try {
      config = loadConfig(process.env, flags);
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`hookbridge: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
    // The server (Fastify, the store, the worker) is loaded only when `serve` runs, so the client
    // commands start in a fraction of the time.
    const [{ startServer }, { DataDirLockedError }] = await Promise.all([import('../server.js'), import('../store/sqlite.js')]);
    let server;
    try {
      server = await startServer(config);
    } catch (e) {
      if (e instanceof DataDirLockedError || (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        process.stderr.write(`hookbridge: ${(e as Error).message}\n`);
        process.exit(1);
      }
      throw e;
    }
    printBanner(server.url, config.dataDir, server.bootstrap.generatedKey, server.bootstrap.created);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.app.log.info({ signal }, 'draining: no new claims, waiting for attempts in flight');
      server.close().then(
        () => process.exit(0),
        (err) => {
          server.app.log.error({ err }, 'error while shutting down');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

function printBanner(url: string, dataDir: string, key: string | undefined, created: boolean): void {
  const lines = [`Hookbridge is serving on ${url} (data in ${dataDir})`];
  if (key) {
    lines.push(
      '',
      'Created project "default" with this admin API key. It is shown only this once; store it now:',
      '',
      `    ${key}`,
      '',
      `Try:  curl -H "Authorization: Bearer ${key}" ${url}/v1/endpoints`,
    );
  } else if (created) {
    lines.push('Created project "default" with the admin key from HOOKBRIDGE_BOOTSTRAP_API_KEY.');
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}
