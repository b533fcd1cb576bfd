import type { Command } from 'commander';
import { addIdCommand, addListCommand, encode, examples } from './api.js';
import { DELIVERY_COLUMNS } from './deliveries.js';

/** `hookbridge messages …`: what was published (each message has one delivery per endpoint). */
export function registerMessages(program: Command): void {
  const messages = program
    .command('messages')
    .description('Published messages and their deliveries.')
    .addHelpText('after', examples('hookbridge messages list --event-type order.paid', 'hookbridge messages show msg_01…', 'hookbridge messages delete msg_01…'));

  addListCommand(messages, {
    description: 'List messages, newest first.',
    path: '/v1/messages',
    filters: [
      { flags: '--event-type <type>', param: 'event_type', description: 'only this event type' },
      { flags: '--consumer <id>', param: 'consumer_id', description: 'only messages sent to this consumer' },
    ],
    columns: ['id', 'event_type', 'consumer_id', 'endpoint_id', { header: 'payload', get: (m) => m.payload, max: 40 }, 'created_at'],
    what: 'messages',
    examples: ['hookbridge messages list --event-type order.paid', 'hookbridge messages list --consumer acme --limit 10 --json'],
  });

  addIdCommand(messages, {
    name: 'show',
    description: 'Show a message, its payload and its deliveries.',
    method: 'GET',
    path: (id) => `/v1/messages/${encode(id)}`,
    related: { key: 'deliveries', title: 'Deliveries', path: () => '/v1/deliveries', query: (id) => ({ message_id: id }), columns: DELIVERY_COLUMNS },
    examples: ['hookbridge messages show msg_01…', 'hookbridge messages show msg_01… --json | jq .payload'],
  });

  addIdCommand(messages, {
    name: 'delete',
    description: 'Remove a message\'s payload at once (and response excerpts); deliveries not yet made are cancelled. Metadata and attempts stay.',
    method: 'DELETE',
    path: (id) => `/v1/messages/${encode(id)}`,
    summary: (_obj, id) => `payload of ${id} removed; its pending deliveries are cancelled`,
    examples: ['hookbridge messages delete msg_01…'],
  });
}
