/**
 * Create an inbound endpoint from a provider preset (DESIGN.md §6). Each preset's fields are
 * exactly those of its `verification` object (server: core/verify/*.ts): the form sends nothing else.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { navigate } from '../router';
import type { InboundEndpoint } from '../types';
import { ErrorNote, PageHeader, useAction } from '../ui';
import './inbound.css';

interface Field {
  name: string;
  label: string;
  kind?: 'secret' | 'number' | 'select';
  options?: string[];
  required?: boolean;
  hint?: string;
  placeholder?: string;
}

const secret = (hint: string, label = 'Signing secret'): Field => ({ name: 'secret', label, kind: 'secret', required: true, hint });
const tolerance: Field = { name: 'tolerance_seconds', label: 'Tolerance (seconds)', kind: 'number', placeholder: '300', hint: 'how old a signed timestamp may be; default 300' };

export const PRESETS: { type: string; summary: string; fields: Field[] }[] = [
  { type: 'stripe', summary: 'Stripe-Signature (t=…,v1=…), 5 min tolerance; duplicates found by the event id in the body.', fields: [secret('whsec_… from the Stripe dashboard (Developers → Webhooks → the endpoint → Signing secret)'), tolerance] },
  { type: 'github', summary: 'X-Hub-Signature-256; duplicates found by X-GitHub-Delivery.', fields: [secret('the Secret entered in the GitHub webhook settings')] },
  { type: 'shopify', summary: 'X-Shopify-Hmac-Sha256 (base64); duplicates found by X-Shopify-Webhook-Id.', fields: [secret('the app’s webhook signing secret')] },
  { type: 'slack', summary: 'X-Slack-Signature (v0=) over v0:timestamp:body, 5 min tolerance; url_verification is answered.', fields: [secret('Basic Information → App Credentials → Signing Secret'), tolerance] },
  { type: 'standard', summary: 'Standard Webhooks: webhook-* or svix-* headers; duplicates found by webhook-id.', fields: [secret('whsec_… (base64, as Standard Webhooks and Svix senders give it)'), tolerance] },
  {
    type: 'hmac',
    summary: 'Any HMAC scheme: name the header, algorithm and encoding, optionally a timestamp header and the signed content.',
    fields: [
      secret('the shared secret, used as UTF-8 bytes'),
      { name: 'header', label: 'Signature header', required: true, placeholder: 'X-Signature' },
      { name: 'algorithm', label: 'Algorithm', kind: 'select', options: ['sha256', 'sha1', 'sha512'] },
      { name: 'encoding', label: 'Encoding', kind: 'select', options: ['hex', 'base64'] },
      { name: 'prefix', label: 'Prefix', placeholder: 'sha256=', hint: 'text before the signature in the header, if any' },
      { name: 'timestamp_header', label: 'Timestamp header', placeholder: 'X-Timestamp', hint: 'optional; needed to use {timestamp}' },
      { name: 'signed_content', label: 'Signed content', placeholder: '{body}', hint: 'template of what is signed, e.g. {timestamp}.{body}; default {body}' },
      { ...tolerance, hint: 'needs a timestamp header' },
      { name: 'id_header', label: 'Event id header', placeholder: 'X-Event-Id', hint: 'used to drop duplicates' },
    ],
  },
  {
    type: 'token',
    summary: 'A shared token in a header (default Authorization, “Bearer” optional) or in a query parameter, for providers that cannot sign.',
    fields: [
      secret('the token the provider sends', 'Token'),
      { name: 'header', label: 'Token header', placeholder: 'Authorization', hint: 'leave empty for Authorization' },
      { name: 'query', label: 'Token query parameter', placeholder: 'token', hint: 'instead of a header' },
    ],
  },
  {
    type: 'basic',
    summary: 'HTTP Basic authentication.',
    fields: [
      { name: 'username', label: 'Username', required: true },
      { name: 'password', label: 'Password', kind: 'secret', required: true },
    ],
  },
  { type: 'none', summary: 'No verification: anyone who knows the URL can post. Combine it with allowed CIDRs.', fields: [] },
];

const MODES: { value: string; hint: string }[] = [
  { value: 'forward', hint: 'verify, then POST each event to your destination URL (re-signed, with retries)' },
  { value: 'pull', hint: 'hold events until your service fetches and acknowledges them (GET …/events, POST …/events/ack)' },
  { value: 'cli', hint: 'stream events to `hookbridge listen` on a developer machine' },
];

/** The signing secret of an endpoint just created, for its detail page to show once. */
const createdSecrets = new Map<string, string>();
export function takeCreatedSecret(id: string): string | undefined {
  const s = createdSecrets.get(id);
  createdSecrets.delete(id);
  return s;
}

function verificationOf(type: string, values: Record<string, string>): Record<string, unknown> {
  const preset = PRESETS.find((p) => p.type === type)!;
  const v: Record<string, unknown> = { type };
  for (const f of preset.fields) {
    const raw = (values[`${type}.${f.name}`] ?? (f.kind === 'select' ? f.options![0] : '')).trim();
    if (raw === '') continue;
    v[f.name] = f.kind === 'number' ? Number(raw) : raw;
  }
  return v;
}

export function InboundForm() {
  const [name, setName] = useState('');
  const [mode, setMode] = useState('forward');
  const [destination, setDestination] = useState('');
  const [provider, setProvider] = useState('stripe');
  const [values, setValues] = useState<Record<string, string>>({});
  const [cidrs, setCidrs] = useState('');
  const preset = PRESETS.find((p) => p.type === provider)!;

  const create = useAction(async () => {
    const allowed = cidrs.split(/[\s,]+/).filter(Boolean);
    const body: Record<string, unknown> = { name: name.trim(), mode, verification: verificationOf(provider, values) };
    if (mode === 'forward') body.destination_url = destination.trim();
    if (allowed.length > 0) body.allowed_cidrs = allowed;
    const created = await api.post<InboundEndpoint>('/inbound-endpoints', body);
    if (created.signing_secret) createdSecrets.set(created.id, created.signing_secret);
    navigate(`/inbound/${encodeURIComponent(created.id)}`);
  });

  const submit = (e: Event) => {
    e.preventDefault();
    void create.run();
  };
  const value = (e: Event) => (e.target as HTMLInputElement).value;

  return (
    <section>
      <PageHeader title="New inbound endpoint" />
      <p class="muted">An inbound endpoint is a URL to give a provider (Stripe, GitHub…): Hookbridge verifies what arrives, answers at once, drops duplicates, then forwards or holds each event.</p>
      <form class="inbound-form" onSubmit={submit}>
        <label for="in-provider">Provider</label>
        <select id="in-provider" aria-describedby="in-provider-hint" value={provider} onChange={(e) => setProvider(value(e))}>
          {PRESETS.map((p) => (
            <option key={p.type} value={p.type}>
              {p.type}
            </option>
          ))}
        </select>
        <span class="hint" id="in-provider-hint">
          {preset.summary}
        </span>

        <label for="in-name">Name</label>
        <input id="in-name" required maxLength={256} value={name} placeholder={`${provider} webhooks`} onInput={(e) => setName(value(e))} />

        <label for="in-mode">Mode</label>
        <select id="in-mode" aria-describedby="in-mode-hint" value={mode} onChange={(e) => setMode(value(e))}>
          {MODES.map((m) => (
            <option key={m.value} value={m.value}>
              {m.value}
            </option>
          ))}
        </select>
        <span class="hint" id="in-mode-hint">
          {MODES.find((m) => m.value === mode)?.hint}
        </span>

        {mode === 'forward' && (
          <>
            <label for="in-destination">Destination URL</label>
            <input id="in-destination" aria-describedby="in-destination-hint" type="url" required value={destination} placeholder="http://127.0.0.1:3000/webhooks" onInput={(e) => setDestination(value(e))} />
            <span class="hint" id="in-destination-hint">
              where your service receives the verified events (loopback and private networks are allowed by default)
            </span>
          </>
        )}

        <fieldset class="provider-fields">
          <legend>Verification: {provider}</legend>
          {preset.fields.length === 0 && <p class="hint">Nothing to configure. Anyone who knows the ingest URL can post to it.</p>}
          {preset.fields.map((f) => {
            const id = `in-v-${provider}-${f.name}`;
            const key = `${provider}.${f.name}`;
            const set = (e: Event) => setValues({ ...values, [key]: value(e) });
            return (
              <div key={key}>
                <label for={id}>{f.label}</label>
                {f.kind === 'select' ? (
                  <select id={id} value={values[key] ?? f.options![0]} onChange={set}>
                    {f.options!.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={id}
                    aria-describedby={f.hint ? `${id}-hint` : undefined}
                    // One input for three kinds; Preact's input types are a union per type.
                    type={(f.kind === 'secret' ? 'password' : f.kind === 'number' ? 'number' : 'text') as 'text'}
                    autocomplete="off"
                    required={f.required}
                    min={f.kind === 'number' ? 1 : undefined}
                    value={values[key] ?? ''}
                    placeholder={f.placeholder}
                    onInput={set}
                  />
                )}
                {f.hint && (
                  <span class="hint" id={`${id}-hint`}>
                    {f.hint}
                  </span>
                )}
              </div>
            );
          })}
        </fieldset>

        <label for="in-cidrs">Allowed CIDRs</label>
        <input id="in-cidrs" aria-describedby="in-cidrs-hint" value={cidrs} placeholder="203.0.113.0/24, 2001:db8::/32" onInput={(e) => setCidrs(value(e))} />
        <span class="hint" id="in-cidrs-hint">
          optional, comma-separated (e.g. the provider’s published ranges); requests from elsewhere are refused with 403
        </span>

        <ErrorNote error={create.error} />
        <div class="actions">
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create inbound endpoint'}
          </button>
          <a class="button secondary" href="#/inbound">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
