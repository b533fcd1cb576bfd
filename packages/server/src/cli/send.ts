import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { apiAction, collect, examples, withConnection } from './api.js';
import { readJson } from './input.js';
import { out, printJson, table } from './output.js';

interface Accepted {
  id: string;
  event_type: string;
  created_at: string;
  deliveries: Array<{ id: string; endpoint_id: string; status: string }>;
}

/**
 * `hookbridge send`: publishes one message (POST /v1/messages). The payload comes from --data,
 * --file, or stdin when neither is given.
 */
export function registerSend(program: Command): void {
  const send = program
    .command('send')
    .description('Publish a message: to one endpoint, to a consumer\'s endpoints, or to all (--broadcast).')
    .requiredOption('--event-type <type>', 'the event type, e.g. order.paid')
    .addOption(new Option('--endpoint <id>', 'to this endpoint only (its filter is not applied)').conflicts(['consumer', 'broadcast']))
    .addOption(new Option('--consumer <id>', "to this consumer's endpoints whose filter matches").conflicts(['broadcast']))
    .option('--broadcast', "to every matching endpoint of the project, whatever their consumer")
    .option('--data <json>', 'the payload as JSON text')
    .option('--file <file>', 'read the payload (JSON) from this file')
    .option('--channel <channel...>', 'channels of the message (repeat or comma-separate)', collect)
    .option('--idempotency-key <key>', 'same key + same payload = the original message, not a new one (default: a random key, so a retried request is not sent twice)');
  withConnection(send)
    .addHelpText(
      'after',
      `
Without --endpoint, --consumer or --broadcast the message goes to the matching endpoints that have
no consumer. With neither --data nor --file the payload is read from stdin.
${examples(
  'hookbridge send --endpoint ep_01… --event-type order.paid --data \'{"order_id":"o_1001"}\'',
  'echo \'{"invoice":"in_77"}\' | hookbridge send --consumer acme --event-type invoice.paid',
  'hookbridge send --broadcast --event-type maintenance.scheduled --file notice.json --json | jq -r .id',
)}`,
    )
    .action(
      apiAction(async (ctx, _args, o) => {
        const payload = await readJson(o.data, o.file);
        const body = {
          event_type: o.eventType,
          payload,
          ...(o.endpoint ? { endpoint_id: o.endpoint } : {}),
          ...(o.consumer ? { consumer_id: o.consumer } : {}),
          ...(o.broadcast ? { broadcast: true } : {}),
          ...(o.channel ? { channels: o.channel } : {}),
          // A key makes the POST safe to retry: the SDK resends it after a timeout or a 503.
          idempotency_key: o.idempotencyKey ?? `cli-${randomUUID()}`,
        };
        const msg = await ctx.client.request<Accepted>('POST', '/v1/messages', { body });
        if (ctx.json) return printJson(msg);
        out.write(`${out.c.bold(msg.id)} ${msg.event_type} accepted; ${msg.deliveries.length} ${msg.deliveries.length === 1 ? 'delivery' : 'deliveries'}\n`);
        if (msg.deliveries.length > 0) out.write(table(msg.deliveries, ['id', 'endpoint_id', 'status']));
        else out.write('no endpoint matched (check --endpoint / --consumer and the endpoints\' event types)\n');
      }),
    );
}
