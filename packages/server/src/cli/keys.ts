import type { Command } from 'commander';
import { addIdCommand, addListCommand, apiAction, choice, defined, encode, examples, withConnection } from './api.js';
import { notice, printObject } from './output.js';

/**
 * `hookbridge keys …`: API keys. Without --project a command acts on the calling key's own
 * project; --project (another project's keys) needs the admin key.
 */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys: list, create, revoke.')
    .addHelpText('after', examples('hookbridge keys list', 'hookbridge keys create --label ci', 'hookbridge keys revoke key_01…'));
  const projectPath = (o: Record<string, any>) => (o.project ? `/v1/projects/${encode(o.project)}/api-keys` : '/v1/api-keys');

  addListCommand(keys, {
    description: "List API keys (prefix, label, last use — never the key itself).",
    path: (_args, o) => projectPath(o),
    options: [{ flags: '--project <id>', description: "another project's keys (admin key only)" }],
    columns: ['id', 'prefix', 'label', 'admin', 'created_at', 'last_used_at', 'revoked_at'],
    what: 'API keys',
    examples: ['hookbridge keys list', 'hookbridge keys list --project proj_01…'],
  });

  const create = keys
    .command('create')
    .description('Create an API key. The key is printed once: store it now.')
    .option('--project <id>', 'for another project (admin key only)')
    .option('--label <label>', 'a name to recognise it by')
    .addOption(choice('--mode <mode>', 'live or test (only the prefix differs)', ['live', 'test']));
  withConnection(create)
    .addHelpText('after', examples('hookbridge keys create --label ci', 'hookbridge keys create --project proj_01… --label acme-backend --json | jq -r .key'))
    .action(
      apiAction(async (ctx, _args, o) => {
        const created = await ctx.client.request<Record<string, unknown>>('POST', projectPath(o), { body: defined({ label: o.label, mode: o.mode }) });
        printObject(created, ctx.json);
        if (!ctx.json) notice('The key is shown only this once; store it now.');
      }),
    );

  addIdCommand(keys, {
    name: 'revoke',
    description: 'Revoke an API key at once (the admin key cannot be revoked).',
    method: 'DELETE',
    path: (id) => `/v1/api-keys/${encode(id)}`,
    summary: (_obj, id) => `revoked ${id}`,
    examples: ['hookbridge keys revoke key_01…'],
  });
}
