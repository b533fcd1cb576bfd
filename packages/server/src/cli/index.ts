/** The `hookbridge` command: one file per subcommand, registered here. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerMigrate } from './migrate.js';
import { registerMigrateStore } from './migrate-store.js';
import { registerServe } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('hookbridge')
    .description('Hookbridge: a self-hostable webhook bridge. Sends signed, retried webhooks and keeps every attempt.')
    .version(VERSION)
    .showHelpAfterError();
  registerServe(program);
  registerMigrate(program);
  registerMigrateStore(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
