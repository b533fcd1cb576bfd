import { Option, type Command } from 'commander';
import {
  addIdCommand,
  addListCommand,
  apiAction,
  choice,
  collect,
  collectHeader,
  defined,
  encode,
  examples,
  intOption,
  jsonOption,
  numberList,
  sendAndPrint,
  withConnection,
} from './api.js';
import { notice } from './output.js';

/** `hookbridge endpoints …`: outbound destinations (docs/api.md "Endpoints"). */
export function registerEndpoints(program: Command): void {
  const endpoints = program
    .command('endpoints')
    .description('Outbound endpoints: where your webhooks are delivered.')
    .addHelpText('after', examples('hookbridge endpoints create --url https://example.com/hooks --event-type order.paid', 'hookbridge endpoints list --status paused', 'hookbridge endpoints pause ep_01…'));

  addListCommand(endpoints, {
    description: 'List endpoints, newest first.',
    path: '/v1/endpoints',
    filters: [
      { flags: '--consumer <id>', param: 'consumer_id', description: "only this consumer's endpoints" },
      { flags: '--status <status>', param: 'status', description: 'only endpoints in this status', choices: ['active', 'paused', 'disabled'] },
    ],
    columns: ['id', 'url', 'consumer_id', 'status', { header: 'event_types', get: (e) => e.event_types?.join(',') }, 'created_at'],
    what: 'endpoints',
    examples: ['hookbridge endpoints list', 'hookbridge endpoints list --consumer acme --status paused'],
  });

  addIdCommand(endpoints, { name: 'show', description: 'Show one endpoint.', method: 'GET', path: (id) => `/v1/endpoints/${encode(id)}`, examples: ['hookbridge endpoints show ep_01…'] });

  const create = endpoints.command('create').description('Create an endpoint. Its signing secret is printed once (and on rotation).');
  endpointOptions(create.requiredOption('--url <url>', 'http(s) URL the deliveries are POSTed to'));
  withConnection(create)
    .addHelpText(
      'after',
      examples(
        'hookbridge endpoints create --url https://example.com/hooks',
        'hookbridge endpoints create --url https://acme.example/hooks --consumer acme --event-type order.created --event-type order.paid',
        'hookbridge endpoints create --url https://example.com/hooks --retry-schedule 5,60,600 --header "X-Team: billing" --json | jq -r .signing_secret',
        'hookbridge endpoints create --url https://ops.example.com/hb --event-type hookbridge.endpoint.disabled,hookbridge.delivery.failed',
      ),
    )
    .action(
      apiAction(async (ctx, _args, o) => {
        await sendAndPrint(ctx, 'POST', '/v1/endpoints', endpointBody(o));
        if (!ctx.json) notice('The signing_secret is shown only now (and on rotation): give it to the receiver.');
      }),
    );

  const update = endpoints.command('update').description('Change an endpoint: only the flags given are sent.').argument('<id>');
  endpointOptions(update.option('--url <url>', 'new URL (checked again)'));
  update.option('--clear <fields>', 'set these fields to null, e.g. event_types,consumer_id', collect);
  withConnection(update)
    .addHelpText('after', examples('hookbridge endpoints update ep_01… --event-type invoice.paid', 'hookbridge endpoints update ep_01… --clear event_types,rate_limit_rps'))
    .action(apiAction(async (ctx, [id], o) => void (await sendAndPrint(ctx, 'PATCH', `/v1/endpoints/${encode(id)}`, endpointBody(o)))));

  const state = (obj: Record<string, any>) => `${obj.id} is ${obj.status}`;
  addIdCommand(endpoints, {
    name: 'pause',
    description: 'Pause: waiting deliveries are held (status paused) until resume.',
    method: 'POST',
    path: (id) => `/v1/endpoints/${encode(id)}/pause`,
    summary: state,
    examples: ['hookbridge endpoints pause ep_01…'],
  });
  addIdCommand(endpoints, {
    name: 'resume',
    description: 'Resume (also a disabled endpoint): held deliveries are queued at once.',
    method: 'POST',
    path: (id) => `/v1/endpoints/${encode(id)}/resume`,
    summary: state,
    examples: ['hookbridge endpoints resume ep_01…'],
  });

  const rotate = endpoints
    .command('rotate-secret')
    .description('New signing secret; the old one keeps signing alongside until the grace period ends.')
    .argument('<id>')
    .option('--grace-seconds <n>', 'how long the old secret still signs (0–604800, default 86400)', intOption('--grace-seconds', 0, 604_800));
  withConnection(rotate)
    .addHelpText('after', examples('hookbridge endpoints rotate-secret ep_01…', 'hookbridge endpoints rotate-secret ep_01… --grace-seconds 0 --json'))
    .action(apiAction(async (ctx, [id], o) => void (await sendAndPrint(ctx, 'POST', `/v1/endpoints/${encode(id)}/secret/rotate`, defined({ grace_seconds: o.graceSeconds })))));

  addIdCommand(endpoints, {
    name: 'delete',
    description: 'Delete an endpoint: its waiting deliveries are cancelled; history stays readable.',
    method: 'DELETE',
    path: (id) => `/v1/endpoints/${encode(id)}`,
    summary: (_obj, id) => `deleted ${id}`,
    examples: ['hookbridge endpoints delete ep_01…'],
  });
}

/** The settable fields, shared by create and update. */
function endpointOptions(cmd: Command): Command {
  return cmd
    .option('--consumer <id>', 'the consumer (your customer) it belongs to')
    .option('--event-type <type...>', 'only these event types (repeat or comma-separate; none = all)', collect)
    .option('--channel <channel...>', 'only messages sharing one of these channels', collect)
    .option('--description <text>', 'a note for people')
    .option('-H, --header <header>', "extra request header 'Name: value' (repeatable; on update the list replaces all of the endpoint's headers: values read back [redacted], so give every one)", collectHeader)
    .option('--rate-limit <rps>', 'most deliveries per second', intOption('--rate-limit', 1, 100_000))
    .option('--timeout-ms <ms>', 'per-attempt timeout (1000–30000)', intOption('--timeout-ms', 1000, 30_000))
    .option('--retry-schedule <seconds>', 'waits after the first attempt, e.g. 5,60,600 ("default": project default)', numberList('--retry-schedule'))
    .option('--retry-client-errors', 'retry 4xx answers too (except 410)')
    .addOption(choice('--scheme <scheme>', 'signature headers: standard (webhook-*) or hookbridge (X-Webhook-*)', ['standard', 'hookbridge']))
    .addOption(choice('--ordering <ordering>', 'fifo: one at a time, in publish order', ['none', 'fifo']))
    .addOption(new Option('--metadata <json>', 'a JSON object of your own').argParser(jsonOption('--metadata')))
    .option('--disable-after-seconds <n>', 'auto-disable after this long without a success (0 = never; --clear inherits the project\'s)', intOption('--disable-after-seconds', 0, 365 * 86400))
    .option('--disable-min-failures <n>', 'auto-disable also needs this many failed attempts in a row', intOption('--disable-min-failures', 1, 1_000_000));
}

function endpointBody(o: Record<string, any>): Record<string, unknown> {
  const body = defined({
    url: o.url,
    consumer_id: o.consumer,
    event_types: o.eventType,
    channels: o.channel,
    description: o.description,
    headers: o.header,
    rate_limit_rps: o.rateLimit,
    timeout_ms: o.timeoutMs,
    retry_schedule: o.retrySchedule,
    retry_client_errors: o.retryClientErrors,
    signature_scheme: o.scheme,
    ordering: o.ordering,
    metadata: o.metadata,
    disable_after_seconds: o.disableAfterSeconds,
    disable_min_failures: o.disableMinFailures,
  });
  for (const field of (o.clear as string[] | undefined) ?? []) body[field] = null;
  return body;
}
