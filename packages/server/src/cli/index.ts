/** The `hookbridge` command: one file per subcommand, registered here. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { EXIT, EXIT_CODES_HELP } from './api.js';
import { registerBackup } from './backup.js';
import { registerDeliveries } from './deliveries.js';
import { registerEndpoints } from './endpoints.js';
import { registerEventTypes } from './event-types.js';
import { registerExport } from './export.js';
import { registerInbound } from './inbound.js';
import { registerKeys } from './keys.js';
import { registerListen } from './listen.js';
import { registerLogin } from './login.js';
import { registerMessages } from './messages.js';
import { registerMigrate } from './migrate.js';
import { registerMigrateStore } from './migrate-store.js';
import { registerProjects } from './projects.js';
import { registerRestore } from './restore.js';
import { registerSend } from './send.js';
import { registerServe } from './serve.js';
import { registerTail } from './tail.js';
import { registerVerify } from './verify.js';

export function buildProgram(): Command {
  const program = new Command('hookbridge')
    .description('Hookbridge: a self-hostable webhook bridge. Sends signed, retried webhooks and keeps every attempt.')
    .version(VERSION)
    .showHelpAfterError()
    // Set before the subcommands are added, so they inherit it: usage errors then come back to
    // main() as exceptions and exit with 2 instead of commander's 1 (1 means "the server said no").
    .exitOverride()
    .addHelpText(
      'after',
      `
Server:      serve, migrate, migrate-store, backup, restore
Client:      login, projects, keys, endpoints, event-types, send, messages, deliveries, inbound, tail, export
Local dev:   listen
Receivers:   verify
Run \`hookbridge <command> --help\` for its flags and examples; docs/cli.md has them all.
${EXIT_CODES_HELP}

Examples:
  $ hookbridge serve
  $ hookbridge login --url http://localhost:8080 --api-key hb_live_…
  $ hookbridge endpoints create --url https://example.com/hooks --event-type order.paid
  $ echo '{"order_id":"o_1"}' | hookbridge send --endpoint ep_01… --event-type order.paid
  $ hookbridge deliveries list --status failed`,
    );
  registerServe(program);
  registerMigrate(program);
  registerMigrateStore(program);
  registerBackup(program);
  registerRestore(program);
  registerLogin(program);
  registerProjects(program);
  registerKeys(program);
  registerEndpoints(program);
  registerEventTypes(program);
  registerSend(program);
  registerMessages(program);
  registerDeliveries(program);
  registerInbound(program);
  registerTail(program);
  registerExport(program);
  registerVerify(program);
  registerListen(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // --help and --version end with exit code 0; every other commander error is a usage error
    // (commander has already printed it).
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
}
