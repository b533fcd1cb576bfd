import type { Command } from 'commander';
import { UsageError } from './config-file.js';
import { addIdCommand, addListCommand, allPages, apiAction, choice, collect, encode, examples, intOption, withConnection, type Ctx } from './api.js';
import { notice, out, printJson, progressBar, type Column } from './output.js';

export const DELIVERY_STATUSES = ['queued', 'delivering', 'pending_retry', 'succeeded', 'failed', 'cancelled', 'paused'];
const REPLAYABLE = ['succeeded', 'failed', 'cancelled'];

/** The columns every delivery table shows (list, messages show, tail's first lines). */
export const DELIVERY_COLUMNS: Column[] = ['id', 'event_type', 'endpoint_id', 'status', { header: 'attempts', get: (d) => d.attempt_count }, { header: 'code', get: (d) => d.last_status_code }, 'updated_at'];

export const ATTEMPT_COLUMNS: Column[] = [
  { header: '#', get: (a) => a.attempt_number },
  'started_at',
  { header: 'ms', get: (a) => a.duration_ms },
  { header: 'code', get: (a) => a.status_code },
  'outcome',
  { header: 'error', get: (a) => (a.error_class ? `${a.error_class}: ${a.error_message ?? ''}` : a.error_message), max: 50 },
  { header: 'response', get: (a) => a.response_body, max: 40 },
];

/** The filters of `deliveries list` and `tail` (query parameters of GET /v1/deliveries). */
export const DELIVERY_FILTERS = [
  { flags: '--status <status>', param: 'status', description: 'only deliveries in this status', choices: DELIVERY_STATUSES },
  { flags: '--endpoint <id>', param: 'endpoint_id', description: 'only to this endpoint (or inbound endpoint)' },
  { flags: '--message <id>', param: 'message_id', description: 'only of this message' },
  { flags: '--consumer <id>', param: 'consumer_id', description: 'only to endpoints of this consumer' },
  { flags: '--event-type <type>', param: 'event_type', description: 'only of this event type' },
  { flags: '--since <time>', param: 'since', description: 'created at or after (RFC 3339, e.g. 2026-01-31T00:00:00Z)' },
  { flags: '--until <time>', param: 'until', description: 'created before (RFC 3339)' },
];

/** `hookbridge deliveries …`: one message × one endpoint, with its attempts and the actions on it. */
export function registerDeliveries(program: Command): void {
  const deliveries = program
    .command('deliveries')
    .description('Deliveries (one message to one endpoint): list, inspect, retry, cancel, replay.')
    .addHelpText('after', examples('hookbridge deliveries list --status failed', 'hookbridge deliveries show dlv_01…', 'hookbridge deliveries bulk-replay --status failed --endpoint ep_01…'));

  addListCommand(deliveries, {
    description: 'List deliveries, newest first.',
    path: '/v1/deliveries',
    filters: DELIVERY_FILTERS,
    columns: DELIVERY_COLUMNS,
    what: 'deliveries',
    examples: ['hookbridge deliveries list --status failed', 'hookbridge deliveries list --endpoint ep_01… --since 2026-01-31T00:00:00Z --all --json'],
  });

  addIdCommand(deliveries, {
    name: 'show',
    description: 'Show a delivery and its attempts (oldest first) as a table.',
    method: 'GET',
    path: (id) => `/v1/deliveries/${encode(id)}`,
    related: { key: 'attempts', title: 'Attempts', path: (id) => `/v1/deliveries/${encode(id)}/attempts`, columns: ATTEMPT_COLUMNS },
    examples: ['hookbridge deliveries show dlv_01…', 'hookbridge deliveries show dlv_01… --json | jq ".attempts[].status_code"'],
  });

  const actions: Array<[string, string, string]> = [
    ['retry', 'Attempt now a delivery waiting for its next retry (pending_retry → queued).', 'retry'],
    ['cancel', 'Cancel a queued, pending_retry or paused delivery.', 'cancel'],
    ['replay', 'Send a succeeded, failed or cancelled delivery again (same webhook-id; attempts keep numbering).', 'replay'],
  ];
  for (const [name, description, verb] of actions) {
    addIdCommand(deliveries, {
      name,
      description,
      method: 'POST',
      path: (id) => `/v1/deliveries/${encode(id)}/${verb}`,
      summary: (d) => `${d.id} is ${d.status}${d.replay_count ? ` (replay ${d.replay_count})` : ''}`,
      examples: [`hookbridge deliveries ${name} dlv_01…`],
    });
  }

  registerBulkReplay(deliveries);
}

/**
 * `deliveries bulk-replay`: POST /v1/deliveries/replay answers only once, with the counts, so to
 * show progress the CLI selects the ids itself (GET /v1/deliveries with the same filters) and
 * replays them in batches by id, drawing a bar on stderr after each batch. A delivery that changed
 * status in between is simply counted as skipped by the server.
 */
function registerBulkReplay(deliveries: Command): void {
  const cmd = deliveries
    .command('bulk-replay')
    .description('Replay many deliveries: by --ids, or every delivery matching --status (and --endpoint, --since, --until).')
    .option('--ids <ids...>', 'these deliveries (repeat or comma-separate)', collect)
    .addOption(choice('--status <status>', 'replay the deliveries in this status', REPLAYABLE))
    .option('--endpoint <id>', 'only to this endpoint')
    .option('--since <time>', 'created at or after (RFC 3339)')
    .option('--until <time>', 'created before (RFC 3339)')
    .option('--batch-size <n>', 'ids per request (1–1000)', intOption('--batch-size', 1, 1000), 100);
  withConnection(cmd)
    .addHelpText(
      'after',
      `
Progress goes to stderr; --json prints only the summed answer {"replayed": n, "skipped": n}.
Skipped: wrong status by then, unknown id, endpoint disabled or deleted.
${examples(
  'hookbridge deliveries bulk-replay --status failed',
  'hookbridge deliveries bulk-replay --status failed --endpoint ep_01… --since 2026-01-31T00:00:00Z',
  'hookbridge deliveries bulk-replay --ids dlv_01a,dlv_01b --json',
)}`,
    )
    .action(apiAction(async (ctx, _args, o) => bulkReplay(ctx, o)));
}

async function bulkReplay(ctx: Ctx, o: Record<string, any>): Promise<void> {
  if (o.ids && (o.status || o.endpoint || o.since || o.until)) throw new UsageError('give either --ids or a filter (--status …), not both');
  if (!o.ids && !o.status) throw new UsageError('give --ids, or --status (succeeded, failed or cancelled) with optional --endpoint, --since, --until');
  let ids: string[] = o.ids;
  if (!ids) {
    if (!ctx.json) notice(`finding ${o.status} deliveries…`);
    const found = await allPages<{ id: string }>(ctx.client, '/v1/deliveries', { status: o.status, endpoint_id: o.endpoint, since: o.since, until: o.until });
    ids = found.map((d) => d.id);
  }
  const total = { replayed: 0, skipped: 0 };
  const bar = progressBar(ids.length, 'replaying');
  for (let i = 0; i < ids.length; i += o.batchSize) {
    const batch = ids.slice(i, i + o.batchSize);
    const counts = await ctx.client.request<{ replayed: number; skipped: number }>('POST', '/v1/deliveries/replay', { body: { ids: batch } });
    total.replayed += counts.replayed;
    total.skipped += counts.skipped;
    bar.update(Math.min(i + batch.length, ids.length), `replayed ${total.replayed}, skipped ${total.skipped}`);
  }
  if (ids.length === 0) bar.finish('nothing to replay');
  if (ctx.json) return printJson(total);
  out.write(`replayed ${total.replayed}, skipped ${total.skipped} (of ${ids.length})\n`);
}
