/**
 * Create (/endpoints/new) or edit (/endpoints/:id/edit) an endpoint. Lists are comma-separated,
 * headers one "Name: value" per line; an empty field means the default (omitted on create, null on
 * edit). An edit sends only what changed: header values read back redacted, so unchanged headers
 * are never sent back. The API's validation errors are shown at their fields.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiFailure } from '../api';
import { href, navigate } from '../router';
import { canWrite, useSession } from '../session-context';
import type { Endpoint } from '../types';
import { ErrorNote, headerLines, Loading, PageHeader, useAction, useLoad } from '../ui';
import { handOverSecret } from './endpoint-detail';
import './endpoints.css';

interface Draft {
  url: string;
  consumer_id: string;
  description: string;
  event_types: string;
  channels: string;
  headers: string;
  rate_limit_rps: string;
  timeout_ms: string;
  retry_schedule: string;
  retry_client_errors: boolean;
  signature_scheme: 'standard' | 'hookbridge';
  ordering: 'none' | 'fifo';
}
type Field = keyof Draft;

const BLANK: Draft = {
  url: '',
  consumer_id: '',
  description: '',
  event_types: '',
  channels: '',
  headers: '',
  rate_limit_rps: '',
  timeout_ms: '',
  retry_schedule: '',
  retry_client_errors: false,
  signature_scheme: 'standard',
  ordering: 'none',
};

function draftOf(e: Endpoint): Draft {
  return {
    url: e.url,
    consumer_id: e.consumer_id ?? '',
    description: e.description ?? '',
    event_types: (e.event_types ?? []).join(', '),
    channels: (e.channels ?? []).join(', '),
    headers: headerLines(e.headers),
    rate_limit_rps: e.rate_limit_rps?.toString() ?? '',
    timeout_ms: e.timeout_ms?.toString() ?? '',
    // [] (no retries) and null (the project's schedule) differ: the form writes the first as "none".
    retry_schedule: e.retry_schedule === null ? '' : e.retry_schedule.length === 0 ? 'none' : e.retry_schedule.join(', '),
    retry_client_errors: e.retry_client_errors,
    signature_scheme: e.signature_scheme,
    ordering: e.ordering,
  };
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** The API value of one field, or a problem to show at it. undefined/null = the default. */
function valueOf(field: Field, d: Draft): { value?: unknown; problem?: string } {
  const text = typeof d[field] === 'string' ? (d[field] as string).trim() : '';
  switch (field) {
    case 'event_types':
    case 'channels': {
      const items = list(text);
      return { value: items.length ? items : null };
    }
    case 'headers': {
      const headers: Record<string, string> = {};
      for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const colon = line.indexOf(':');
        if (colon <= 0) return { problem: `"${line}" is not "Name: value"` };
        headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      // Reads show values as [redacted]; saved back, the placeholder would replace the real value.
      const unknown = Object.keys(headers).filter((k) => headers[k] === '[redacted]');
      if (unknown.length) return { problem: `type the real value of ${unknown.join(', ')} (or remove the line): a changed header list replaces every value` };
      return { value: headers };
    }
    case 'rate_limit_rps':
    case 'timeout_ms': {
      if (!text) return { value: null };
      const n = Number(text);
      return Number.isInteger(n) ? { value: n } : { problem: 'a whole number' };
    }
    case 'retry_schedule': {
      if (text.toLowerCase() === 'none') return { value: [] };
      const items = list(text);
      if (!items.length) return { value: null };
      const secs = items.map(Number);
      return secs.every((n) => Number.isFinite(n)) ? { value: secs } : { problem: 'seconds separated by commas, e.g. 5, 60, 600' };
    }
    case 'retry_client_errors':
    case 'signature_scheme':
    case 'ordering':
      return { value: d[field] };
    default:
      return { value: text || null };
  }
}

/**
 * What a consumer may set in a portal session (the server's PORTAL_WRITABLE, less consumer_id,
 * which the API sets): retries, timeouts and ordering are the operator's.
 */
const PORTAL_FIELDS = new Set<Field>(['url', 'description', 'event_types', 'channels', 'headers', 'rate_limit_rps', 'signature_scheme']);

/** The request body: every filled field on create; only the changed ones on edit. */
function bodyOf(d: Draft, initial: Draft | null, portal: boolean): { body: Record<string, unknown>; problems: Partial<Record<Field, string>> } {
  const body: Record<string, unknown> = {};
  const problems: Partial<Record<Field, string>> = {};
  for (const field of Object.keys(BLANK) as Field[]) {
    if (portal && !PORTAL_FIELDS.has(field)) continue;
    if (initial && d[field] === initial[field]) continue;
    const { value, problem } = valueOf(field, d);
    if (problem) problems[field] = problem;
    else if (field === 'url' && !value) problems.url = 'an endpoint needs a URL';
    else if (initial || (value !== null && !(field === 'headers' && Object.keys(value as object).length === 0))) body[field] = value;
  }
  return { body, problems };
}

/** What the schema validator adds for a nullable field after the real reason: not worth showing. */
const ECHOES = new Set(['must be null', 'must match a schema in anyOf']);

/** API error details name fields like "retry_schedule.2" or "headers": the first part is ours. */
function fieldErrors(error: ApiFailure | undefined): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string[]>> = {};
  for (const d of error?.details ?? []) {
    const f = d.field?.split('.')[0] as Field | undefined;
    if (f && f in BLANK) (out[f] ??= []).push(d.message);
  }
  const shown: Partial<Record<Field, string>> = {};
  for (const [f, messages] of Object.entries(out) as [Field, string[]][]) {
    const real = messages.filter((m) => !ECHOES.has(m));
    shown[f] = [...new Set(real.length ? real : messages)].join('; ');
  }
  return shown;
}

export function EndpointFormView({ params }: { params: Record<string, string>; query: URLSearchParams }) {
  const id = params.id;
  const existing = useLoad(() => (id ? api.get<Endpoint>(`/endpoints/${encodeURIComponent(id)}`) : Promise.resolve(null)), [id]);
  const title = id ? 'Edit endpoint' : 'New endpoint';
  if (!canWrite(useSession())) {
    return (
      <section>
        <PageHeader title={title} />
        <p class="muted">This session is read only.</p>
      </section>
    );
  }
  return (
    <section class="endpoint-form">
      <p class="breadcrumb">
        <a href={href(id ? `/endpoints/${encodeURIComponent(id)}` : '/endpoints')}>← {id ? 'Endpoint' : 'Endpoints'}</a>
      </p>
      <PageHeader title={title} />
      <ErrorNote error={existing.error} />
      {existing.loading && !existing.data ? <Loading /> : existing.error && id ? null : <EndpointForm key={id ?? 'new'} endpoint={existing.data ?? null} />}
    </section>
  );
}

function EndpointForm({ endpoint }: { endpoint: Endpoint | null }) {
  const portal = useSession().portal !== null;
  const initial = endpoint ? draftOf(endpoint) : null;
  const [draft, setDraft] = useState<Draft>(initial ?? BLANK);
  const [local, setLocal] = useState<Partial<Record<Field, string>>>({});
  const save = useAction(async (body: Record<string, unknown>) => {
    if (!endpoint) {
      const created = await api.post<Endpoint>('/endpoints', body);
      if (created.signing_secret) handOverSecret(created.id, created.signing_secret);
      navigate(`/endpoints/${encodeURIComponent(created.id)}`);
    } else {
      if (Object.keys(body).length > 0) await api.patch<Endpoint>(`/endpoints/${encodeURIComponent(endpoint.id)}`, body);
      navigate(`/endpoints/${encodeURIComponent(endpoint.id)}`);
    }
  });
  const errors = { ...fieldErrors(save.error), ...local };
  const set = (field: Field) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setDraft({ ...draft, [field]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const { body, problems } = bodyOf(draft, initial, portal);
    setLocal(problems);
    if (Object.keys(problems).length === 0) void save.run(body);
  };
  const bind = (field: Field) => ({ value: draft[field] as string, onInput: set(field) });
  const field = (name: Field, label: string, hint: string | undefined, control: (aria: Aria) => JSX.Element) => (
    <FieldBox name={name} label={label} hint={hint} error={errors[name]} control={control} />
  );

  return (
    <form class="form" onSubmit={submit} noValidate>
      <fieldset>
        <legend>Destination</legend>
        {field('url', 'URL', 'http(s) URL the webhooks are POSTed to.', (aria) => (
          <input {...aria} {...bind('url')} type="url" required placeholder="https://example.com/webhooks" autocomplete="off" />
        ))}
        {!portal &&
          field('consumer_id', 'Consumer ID', 'Which of your customers owns it: messages sent to that consumer reach it. Empty: messages sent to no consumer.', (aria) => (
            <input {...aria} {...bind('consumer_id')} placeholder="acme" autocomplete="off" />
          ))}
        {field('description', 'Description', undefined, (aria) => <input {...aria} {...bind('description')} />)}
      </fieldset>
      <fieldset>
        <legend>What it receives</legend>
        {field('event_types', 'Event types', 'Comma-separated. Empty: every event type.', (aria) => (
          <input {...aria} {...bind('event_types')} placeholder="order.created, order.paid" autocomplete="off" />
        ))}
        {field('channels', 'Channels', 'Comma-separated. Empty: every message; otherwise only messages sharing a channel.', (aria) => (
          <input {...aria} {...bind('channels')} placeholder="eu, premium" autocomplete="off" />
        ))}
        {field(
          'headers',
          'Headers',
          endpoint
            ? 'One "Name: value" per line. Values read back as [redacted]: leave the list as it is to keep them, or type it anew.'
            : 'Extra request headers, one "Name: value" per line.',
          (aria) => <textarea {...aria} {...bind('headers')} placeholder="Authorization: Bearer abc123" spellcheck={false} />,
        )}
      </fieldset>
      <fieldset>
        <legend>Delivery</legend>
        <div class="form-row">
          {field('rate_limit_rps', 'Rate limit (per second)', 'Empty: no limit.', (aria) => <input {...aria} {...bind('rate_limit_rps')} type="number" min={1} max={100000} step={1} />)}
          {!portal && field('timeout_ms', 'Timeout (ms)', "1000–30000. Empty: the server's (15 s).", (aria) => <input {...aria} {...bind('timeout_ms')} type="number" min={1000} max={30000} step={1} />)}
        </div>
        {!portal && field('retry_schedule', 'Retry schedule (seconds)', "Waits before each retry, comma-separated; none: no retries. Empty: the project's schedule.", (aria) => (
          <input {...aria} {...bind('retry_schedule')} placeholder="5, 60, 600, 3600" autocomplete="off" />
        ))}
        {!portal && (<div class="field check">
          <input id="ep-retry_client_errors" type="checkbox" checked={draft.retry_client_errors} onChange={set('retry_client_errors')} aria-describedby="ep-retry_client_errors-hint" />
          <label for="ep-retry_client_errors">Retry client errors (4xx)</label>
          <span />
          <span class="hint" id="ep-retry_client_errors-hint">
            Otherwise a 4xx answer fails the delivery at once (a 410 disables the endpoint).
          </span>
        </div>)}
        <div class="form-row">
          {field('signature_scheme', 'Signature scheme', 'standard: Standard Webhooks (webhook-*) headers; hookbridge: x-webhook-* headers.', (aria) => (
            <select {...aria} value={draft.signature_scheme} onChange={set('signature_scheme')}>
              <option value="standard">standard</option>
              <option value="hookbridge">hookbridge</option>
            </select>
          ))}
          {!portal && field('ordering', 'Ordering', 'fifo: one delivery at a time, in publish order.', (aria) => (
            <select {...aria} value={draft.ordering} onChange={set('ordering')}>
              <option value="none">none</option>
              <option value="fifo">fifo</option>
            </select>
          ))}
        </div>
      </fieldset>
      <ErrorNote error={save.error} />
      <div class="actions">
        <button type="submit" disabled={save.busy}>
          {endpoint ? 'Save changes' : 'Create endpoint'}
        </button>
        <a class="button secondary" href={href(endpoint ? `/endpoints/${encodeURIComponent(endpoint.id)}` : '/endpoints')}>
          Cancel
        </a>
      </div>
    </form>
  );
}

/** What a field's control needs to be labelled, described and marked invalid. */
interface Aria {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

function FieldBox({ name, label, hint, error, control }: { name: Field; label: string; hint?: string; error?: string; control: (aria: Aria) => JSX.Element }) {
  const id = `ep-${name}`;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {control({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described || undefined })}
      {hint && (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
