/**
 * Event types: the catalogue of what the project sends. Registering is optional unless the project
 * turns on strict_event_types; a schema is stored (documentation for consumers), not enforced yet.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { EventType } from '../types';
import { Command, Empty, ErrorNote, JsonBlock, ListTable, PageHeader, Time, useAction } from '../ui';
import { curl } from './curl';
import { usePagedList } from './paged-list';

const NAME_PATTERN = '^[A-Za-z0-9_.:\\/\\-]+$';

export function EventTypesView(_props: { params: Record<string, string>; query: URLSearchParams }) {
  const list = usePagedList<EventType>('/event-types');
  const [formOpen, setFormOpen] = useState(false);
  const [created, setCreated] = useState<string>();

  return (
    <section>
      <PageHeader title="Event types">
        {!formOpen && (
          <button type="button" onClick={() => (setFormOpen(true), setCreated(undefined))}>
            New event type
          </button>
        )}
      </PageHeader>
      <p class="muted lead">
        The names of the events you send (<code>order.created</code>, <code>invoice.paid</code>…). Registering them is optional unless the project has strict event types; a
        JSON schema is stored as documentation for your consumers.
      </p>
      {created && (
        <p class="notice" role="status">
          Event type <code>{created}</code> registered.
        </p>
      )}
      {formOpen && (
        <EventTypeForm
          onCancel={() => setFormOpen(false)}
          onCreated={(et) => {
            setFormOpen(false);
            setCreated(et.name);
            list.reload();
          }}
        />
      )}
      <ErrorNote error={list.error} />
      <ListTable
        list={list}
        empty={
          <Empty title="No event types registered yet">
            <p>Register one here with “New event type”, or from a terminal:</p>
            <Command text={`hookbridge event-types create order.created --description "An order was placed" --schema-file order.schema.json`} />
            <Command text={curl('POST', '/event-types', { name: 'order.created', description: 'An order was placed' })} />
            <p class="muted">You can also just send messages: unregistered event types are accepted unless the project sets strict event types.</p>
          </Empty>
        }
      >
        {(items) => (
          <table>
            <caption class="visually-hidden">Registered event types</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col" class="optional">
                  Schema
                </th>
                <th scope="col" class="optional">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((et) => (
                <tr key={et.name}>
                  <td>
                    <code>{et.name}</code>
                  </td>
                  <td>{et.description ?? <span class="muted">—</span>}</td>
                  <td class="optional">
                    {et.schema ? (
                      <details>
                        <summary>View schema</summary>
                        <JsonBlock value={et.schema} label={`JSON schema of ${et.name}`} />
                      </details>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td class="optional nowrap">
                    <Time iso={et.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
    </section>
  );
}

/** The schema textarea as the API wants it: empty (no schema) or a JSON object. */
function parseSchema(text: string): { schema: Record<string, unknown> | null; problem?: string } {
  if (text.trim() === '') return { schema: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { schema: null, problem: `not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { schema: null, problem: 'a JSON schema is an object ({ … })' };
  return { schema: value as Record<string, unknown> };
}

const EXAMPLE_SCHEMA = `{
  "type": "object",
  "properties": { "order_id": { "type": "string" } },
  "required": ["order_id"]
}`;

function EventTypeForm({ onCreated, onCancel }: { onCreated: (et: EventType) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [schemaText, setSchemaText] = useState('');
  const [schemaProblem, setSchemaProblem] = useState<string>();
  const create = useAction((body: unknown) => api.post<EventType>('/event-types', body));

  const submit = async (e: Event) => {
    e.preventDefault();
    const { schema, problem } = parseSchema(schemaText);
    setSchemaProblem(problem);
    if (problem) {
      document.getElementById('et-schema')?.focus();
      return;
    }
    const body = { name: name.trim(), description: description.trim() || null, schema };
    const et = await create.run(body);
    if (et) onCreated(et);
  };

  return (
    <form class="panel form" onSubmit={submit} aria-labelledby="et-form-title">
      <h2 id="et-form-title">New event type</h2>
      <label for="et-name">Name</label>
      <span class="hint" id="et-name-hint">
        Letters, digits and <code>_ . : / -</code>, e.g. <code>order.created</code>. Names starting with <code>hookbridge.</code> are reserved.
      </span>
      <input id="et-name" required maxLength={256} pattern={NAME_PATTERN} aria-describedby="et-name-hint" value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
      <label for="et-description">Description</label>
      <input id="et-description" maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="et-schema">JSON schema</label>
      <span class="hint" id="et-schema-hint">
        Optional. A JSON Schema object; stored for your consumers, payloads are not checked against it yet.
      </span>
      <textarea
        id="et-schema"
        rows={8}
        spellcheck={false}
        placeholder={EXAMPLE_SCHEMA}
        aria-describedby={schemaProblem ? 'et-schema-hint et-schema-problem' : 'et-schema-hint'}
        aria-invalid={schemaProblem ? true : undefined}
        value={schemaText}
        onInput={(e) => (setSchemaText(e.currentTarget.value), setSchemaProblem(undefined))}
        onBlur={() => setSchemaProblem(parseSchema(schemaText).problem)}
      />
      {schemaProblem && (
        <p class="field-error" id="et-schema-problem">
          The schema is {schemaProblem}
        </p>
      )}
      <ErrorNote error={create.error} />
      <div class="actions">
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create event type'}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
