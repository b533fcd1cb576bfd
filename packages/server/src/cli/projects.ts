import type { Command } from 'commander';
import { addIdCommand, addListCommand, apiAction, defined, encode, examples, intOption, numberList, sendAndPrint, withConnection } from './api.js';

/**
 * `hookbridge projects …`: tenants. Admin key only (the key created on first start); other keys
 * get 403, which the CLI reports with exit code 3.
 */
export function registerProjects(program: Command): void {
  const projects = program
    .command('projects')
    .description('Projects (tenants) — admin key only.')
    .addHelpText('after', examples('hookbridge projects list', 'hookbridge projects create --name acme'));

  addListCommand(projects, {
    description: 'List projects.',
    path: '/v1/projects',
    columns: ['id', 'name', 'retry_schedule', 'api_rate_limit_per_minute', 'strict_event_types', 'created_at'],
    what: 'projects',
    examples: ['hookbridge projects list', 'hookbridge projects list --json | jq -r ".data[].id"'],
  });

  addIdCommand(projects, {
    name: 'show',
    description: 'Show one project.',
    method: 'GET',
    path: (id) => `/v1/projects/${encode(id)}`,
    examples: ['hookbridge projects show proj_01…'],
  });

  const create = projects.command('create').description('Create a project (then give it a key: hookbridge keys create --project ID).');
  settingsOptions(create.requiredOption('--name <name>', 'project name'));
  withConnection(create)
    .addHelpText('after', examples('hookbridge projects create --name acme', 'hookbridge projects create --name acme --retry-schedule 5,60,600 --strict-event-types'))
    .action(apiAction(async (ctx, _args, o) => void (await sendAndPrint(ctx, 'POST', '/v1/projects', settingsBody(o)))));

  const update = projects.command('update').description('Change a project (only the flags given; "default" resets a setting).').argument('<id>');
  settingsOptions(update.option('--name <name>', 'new name'));
  withConnection(update)
    .addHelpText('after', examples('hookbridge projects update proj_01… --rate-limit 600', 'hookbridge projects update proj_01… --retry-schedule default'))
    .action(apiAction(async (ctx, [id], o) => void (await sendAndPrint(ctx, 'PATCH', `/v1/projects/${encode(id)}`, settingsBody(o)))));
}

function settingsOptions(cmd: Command): Command {
  return cmd
    .option('--retry-schedule <seconds>', 'default waits between attempts, e.g. 5,60,600 ("default": the standard schedule)', numberList('--retry-schedule'))
    .option('--rate-limit <per-minute>', 'API requests per minute (0 = unlimited)', intOption('--rate-limit', 0, 10_000_000))
    .option('--strict-event-types', 'refuse messages whose event type is not registered')
    .option('--no-strict-event-types', 'accept any event type')
    .option('--disable-after-seconds <n>', 'auto-disable endpoints after this long without a success (0 = never; "default": the server\'s)', intOrDefault('--disable-after-seconds', 0, 365 * 86400))
    .option('--disable-min-failures <n>', 'auto-disable also needs this many failed attempts in a row ("default": the server\'s)', intOrDefault('--disable-min-failures', 1, 1_000_000));
}

/** A whole number, or "default" (null: back to the server's setting). */
const intOrDefault = (name: string, min: number, max: number) => {
  const parse = intOption(name, min, max);
  return (raw: string): number | null => (raw === 'default' ? null : parse(raw));
};

function settingsBody(o: Record<string, any>): Record<string, unknown> {
  return defined({
    name: o.name,
    retry_schedule: o.retrySchedule,
    api_rate_limit_per_minute: o.rateLimit,
    strict_event_types: o.strictEventTypes,
    disable_after_seconds: o.disableAfterSeconds,
    disable_min_failures: o.disableMinFailures,
  });
}
