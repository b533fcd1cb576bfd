import { Option, type Command } from 'commander';
import { UsageError } from './config-file.js';
import { addIdCommand, addListCommand, apiAction, choice, collect, defined, encode, examples, intOption, jsonOption, sendAndPrint, withConnection } from './api.js';
import { ATTEMPT_COLUMNS } from './deliveries.js';
import { notice, out, printObject } from './output.js';

const PRESETS = ['stripe', 'github', 'shopify', 'slack', 'standard', 'hmac', 'token', 'basic', 'none'];

/**
 * `hookbridge inbound …`: receiving webhooks from providers (docs/api.md "Inbound endpoints"):
 * the ingest endpoints, the events they accepted and the requests they refused.
 */
export function registerInbound(program: Command): void {
  const inbound = program
    .command('inbound')
    .description('Inbound: ingest endpoints for providers, accepted events, rejections.')
    .addHelpText('after', examples('hookbridge inbound endpoints create --name stripe --preset stripe --secret whsec_… --destination http://127.0.0.1:3000/stripe', 'hookbridge inbound events list', 'hookbridge inbound rejections list'));
  const group = (name: string, description: string, ...lines: string[]) => inbound.command(name).description(description).addHelpText('after', examples(...lines));
  registerInboundEndpoints(group('endpoints', 'Ingest endpoints (one per provider).', 'hookbridge inbound endpoints list', 'hookbridge inbound endpoints pause in_01…'));
  registerInboundEvents(group('events', 'Events accepted at ingest endpoints.', 'hookbridge inbound events list --endpoint in_01…', 'hookbridge inbound events show ie_01…'));
  const rejections = group('rejections', 'Ingest requests that were refused, with the reason.', 'hookbridge inbound rejections list --endpoint in_01…');
  addListCommand(rejections, {
    description: 'List refused ingest requests, newest first.',
    path: '/v1/inbound-rejections',
    filters: [{ flags: '--endpoint <id>', param: 'inbound_endpoint_id', description: 'only of this inbound endpoint' }],
    columns: ['id', 'inbound_endpoint_id', 'reason', 'status_code', 'source_ip', 'body_bytes', 'created_at'],
    what: 'rejections',
    examples: ['hookbridge inbound rejections list', 'hookbridge inbound rejections list --endpoint in_01… --json'],
  });
}

function registerInboundEndpoints(endpoints: Command): void {
  addListCommand(endpoints, {
    description: 'List inbound endpoints.',
    path: '/v1/inbound-endpoints',
    columns: ['id', 'name', 'mode', 'status', { header: 'verification', get: (e) => e.verification?.type }, { header: 'ingest_url', get: (e) => e.ingest_url, max: 80 }],
    what: 'inbound endpoints',
    examples: ['hookbridge inbound endpoints list'],
  });
  addIdCommand(endpoints, { name: 'show', description: 'Show one inbound endpoint (secrets redacted).', method: 'GET', path: (id) => `/v1/inbound-endpoints/${encode(id)}`, examples: ['hookbridge inbound endpoints show in_01…'] });

  const create = endpoints
    .command('create')
    .description('Create an ingest endpoint: give its ingest_url to the provider.')
    .requiredOption('--name <name>', 'e.g. stripe')
    .addOption(choice('--mode <mode>', 'forward to --destination, hold for pull, or stream to `hookbridge listen`', ['forward', 'pull', 'cli']).default('forward'))
    .option('--destination <url>', 'where forward mode sends the events (your service)')
    .addOption(choice('--preset <type>', "the provider's signature scheme", PRESETS))
    .option('--secret <secret...>', "the provider's signing secret (repeat for several during a rotation)", collect)
    .addOption(new Option('--verification <json>', 'the whole verification object instead of --preset/--secret, e.g. {"type":"hmac",…}').argParser(jsonOption('--verification')))
    .option('--allowed-cidr <cidr...>', 'accept only from these networks (repeatable)', collect)
    .option('--dedupe-window-seconds <n>', 'how long event ids are remembered', intOption('--dedupe-window-seconds', 0, 30 * 86400));
  withConnection(create)
    .addHelpText(
      'after',
      examples(
        'hookbridge inbound endpoints create --name stripe --preset stripe --secret whsec_… --destination http://127.0.0.1:3000/stripe',
        'hookbridge inbound endpoints create --name gh --mode pull --preset github --secret s3cret',
        'hookbridge inbound endpoints create --name dev --mode cli --preset none',
        `hookbridge inbound endpoints create --name acme --verification '{"type":"token","secret":"t0k","header":"X-Token"}'`,
      ),
    )
    .action(
      apiAction(async (ctx, _args, o) => {
        const body = defined({
          name: o.name,
          mode: o.mode,
          destination_url: o.destination,
          verification: verification(o),
          allowed_cidrs: o.allowedCidr,
          dedupe_window_seconds: o.dedupeWindowSeconds,
        });
        await sendAndPrint(ctx, 'POST', '/v1/inbound-endpoints', body);
        if (!ctx.json) notice('Give ingest_url to the provider. signing_secret (shown only now) verifies what is forwarded to you.');
      }),
    );

  const state = (e: Record<string, any>) => `${e.id} is ${e.status}`;
  addIdCommand(endpoints, { name: 'pause', description: 'Pause: ingest answers 503 so providers retry later.', method: 'POST', path: (id) => `/v1/inbound-endpoints/${encode(id)}/pause`, summary: state, examples: ['hookbridge inbound endpoints pause in_01…'] });
  addIdCommand(endpoints, { name: 'resume', description: 'Resume accepting.', method: 'POST', path: (id) => `/v1/inbound-endpoints/${encode(id)}/resume`, summary: state, examples: ['hookbridge inbound endpoints resume in_01…'] });
  addIdCommand(endpoints, { name: 'delete', description: 'Delete an inbound endpoint.', method: 'DELETE', path: (id) => `/v1/inbound-endpoints/${encode(id)}`, summary: (_e, id) => `deleted ${id}`, examples: ['hookbridge inbound endpoints delete in_01…'] });
}

function verification(o: Record<string, any>): unknown {
  if (o.verification !== undefined) {
    if (o.preset || o.secret) throw new UsageError('give either --verification or --preset/--secret, not both');
    return o.verification;
  }
  if (!o.preset) throw new UsageError(`give --preset (${PRESETS.join(', ')}) or --verification`);
  if (o.preset === 'none') return { type: 'none' };
  if (!o.secret) throw new UsageError(`--preset ${o.preset} needs --secret (or describe it all with --verification)`);
  if (['hmac', 'basic'].includes(o.preset)) throw new UsageError(`--preset ${o.preset} has more fields: describe it with --verification '{"type":"${o.preset}",…}'`);
  return o.secret.length === 1 ? { type: o.preset, secret: o.secret[0] } : { type: o.preset, secrets: o.secret };
}

function registerInboundEvents(events: Command): void {
  addListCommand(events, {
    description: 'List accepted events, newest first.',
    path: '/v1/inbound-events',
    filters: [{ flags: '--endpoint <id>', param: 'inbound_endpoint_id', description: 'only of this inbound endpoint' }],
    columns: ['id', 'inbound_endpoint_id', 'event_type', 'source_ip', { header: 'forwarding', get: (e) => e.delivery?.status }, 'created_at'],
    what: 'inbound events',
    examples: ['hookbridge inbound events list --endpoint in_01…'],
  });

  addIdCommand(events, {
    name: 'show',
    description: 'Show an event (headers, body) and its forwarding attempts.',
    method: 'GET',
    path: (id) => `/v1/inbound-events/${encode(id)}`,
    print: printEvent,
    related: { key: 'attempts', title: 'Forwarding attempts', path: (id) => `/v1/inbound-events/${encode(id)}/attempts`, columns: ATTEMPT_COLUMNS },
    examples: ['hookbridge inbound events show ie_01…', 'hookbridge inbound events show ie_01… --json | jq -r .body'],
  });

  addIdCommand(events, {
    name: 'replay',
    description: 'Forward an event again (forward mode only).',
    method: 'POST',
    path: (id) => `/v1/inbound-events/${encode(id)}/replay`,
    summary: (d) => `${d.id} is ${d.status}`,
    examples: ['hookbridge inbound events replay ie_01…'],
  });
}

/** An inbound event for people: its fields, then the headers one per line, then the body as received. */
function printEvent(event: Record<string, any>): void {
  const { body, headers, ...rest } = event;
  printObject(rest, false);
  out.write(`\n${out.c.bold('Headers')}\n`);
  for (const [k, v] of Object.entries((headers ?? {}) as Record<string, string>)) out.write(`  ${out.c.dim(k)}: ${v}\n`);
  out.write(`\n${out.c.bold('Body')}${event.body_encoding === 'base64' ? ' (base64)' : ''}\n${String(body)}\n`);
}
