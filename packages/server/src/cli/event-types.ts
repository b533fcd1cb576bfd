import type { Command } from 'commander';
import { addIdCommand, addListCommand, apiAction, defined, encode, examples, sendAndPrint, withConnection } from './api.js';
import { readJsonFile } from './input.js';

/**
 * `hookbridge event-types …`: the catalogue of event names. Registering is optional unless the
 * project sets strict_event_types.
 */
export function registerEventTypes(program: Command): void {
  const types = program
    .command('event-types')
    .description('Event types: names (and optional JSON Schemas) your messages use.')
    .addHelpText('after', examples('hookbridge event-types list', 'hookbridge event-types create order.paid --description "An order was paid"'));

  addListCommand(types, {
    description: 'List event types, by name.',
    path: '/v1/event-types',
    columns: ['name', { header: 'description', get: (t) => t.description, max: 60 }, { header: 'schema', get: (t) => (t.schema ? 'yes' : 'no') }, 'created_at'],
    what: 'event types',
    examples: ['hookbridge event-types list'],
  });

  addIdCommand(types, {
    name: 'show',
    description: 'Show one event type with its schema.',
    method: 'GET',
    arg: '<name>',
    path: (name) => `/v1/event-types/${encode(name)}`,
    examples: ['hookbridge event-types show order.paid --json'],
  });

  const create = types
    .command('create')
    .description('Register an event type.')
    .argument('<name>', 'e.g. order.paid (letters, digits and _ . : / -)')
    .option('--description <text>', 'what it means')
    .option('--schema-file <file>', 'a JSON Schema for its payload (stored; not enforced yet)');
  withConnection(create)
    .addHelpText('after', examples('hookbridge event-types create order.paid --description "An order was paid"', 'hookbridge event-types create order.paid --schema-file order-paid.schema.json'))
    .action(
      apiAction(async (ctx, [name], o) => {
        const schema = o.schemaFile ? await readJsonFile(o.schemaFile) : undefined;
        await sendAndPrint(ctx, 'POST', '/v1/event-types', defined({ name, description: o.description, schema }));
      }),
    );
}
