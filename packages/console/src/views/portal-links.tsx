/**
 * Portal links: a time-limited URL that opens this app scoped to one consumer. The token is a
 * bearer credential (in the URL's fragment, so servers and logs never see it); the API, not the
 * page, limits it to that consumer.
 */
import { useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { href } from '../router';
import { useSession } from '../session-context';
import type { Endpoint } from '../types';
import { Command, CopyButton, ErrorNote, PageHeader, Time, useAction, useLoad } from '../ui';
import { curl } from './curl';

/** POST /v1/portal-sessions answers this (201). */
interface PortalLink {
  id: string;
  url: string;
  token: string;
  consumer_id: string;
  read_only: boolean;
  expires_at: string;
}

const MAX_MINUTES = 7 * 24 * 60; // ttl_seconds is 60..604800

export function PortalLinksView(_props: { params: Record<string, string>; query: URLSearchParams }) {
  const session = useSession();
  // Consumer ids already in use, offered as suggestions (any id may be typed).
  const consumers = useLoad(async () => {
    const page = await api.get<Page<Endpoint>>('/endpoints', { limit: 250 });
    return [...new Set(page.data.map((e) => e.consumer_id).filter((c): c is string => Boolean(c)))].sort();
  }, []);
  const [consumerId, setConsumerId] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [readOnly, setReadOnly] = useState(false);
  const [link, setLink] = useState<PortalLink>();
  const create = useAction((body: { consumer_id: string; ttl_seconds: number; read_only: boolean }) => api.post<PortalLink>('/portal-sessions', body));

  const ttlMinutes = Number(minutes);
  const ttlValid = Number.isInteger(ttlMinutes) && ttlMinutes >= 1 && ttlMinutes <= MAX_MINUTES;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ttlValid) return;
    const created = await create.run({ consumer_id: consumerId.trim(), ttl_seconds: ttlMinutes * 60, read_only: readOnly });
    if (created) setLink(created);
  };

  const exampleBody = { consumer_id: consumerId.trim() || 'acme', ttl_seconds: (ttlValid ? ttlMinutes : 60) * 60, read_only: readOnly };
  return (
    <section>
      <PageHeader title="Consumer portal" />
      <p class="lead">
        A portal link opens this app for one of your consumers: they see and manage only their own endpoints and deliveries (create, edit, rotate secrets, pause, replay), never
        other consumers' or the project's settings. Create a link when a signed-in customer opens the webhooks page of your product, and send them to it or embed it.
      </p>
      <form class="panel form" onSubmit={submit} aria-labelledby="portal-form-title">
        <h2 id="portal-form-title" class="form-title">
          New portal link
        </h2>
        <div class="form-row">
          <div class="field grow">
            <label for="portal-consumer">Consumer ID</label>
            <span class="hint" id="portal-consumer-hint">
              The <code>consumer_id</code> of their endpoints.
            </span>
            <input id="portal-consumer" list="portal-consumer-ids" required maxLength={256} autocomplete="off" spellcheck={false} aria-describedby="portal-consumer-hint" value={consumerId} onInput={(e) => setConsumerId(e.currentTarget.value)} />
            <datalist id="portal-consumer-ids">
              {(consumers.data ?? []).map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </div>
          <div class="field">
            <label for="portal-ttl">Valid for (minutes)</label>
            <span class="hint" id="portal-ttl-hint">
              1 to {MAX_MINUTES} (7 days).
            </span>
            <input
              id="portal-ttl"
              type="number"
              min={1}
              max={MAX_MINUTES}
              step={1}
              required
              inputMode="numeric"
              aria-describedby="portal-ttl-hint"
              aria-invalid={ttlValid ? undefined : true}
              value={minutes}
              onInput={(e) => setMinutes(e.currentTarget.value)}
            />
          </div>
        </div>
        <div class="field check">
          <input id="portal-read-only" type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} aria-describedby="portal-read-only-hint" />
          <label for="portal-read-only">Read only</label>
          <span class="hint" id="portal-read-only-hint">
            They can look at endpoints and deliveries but not change, retry or replay anything.
          </span>
        </div>
        <ErrorNote error={create.error} />
        <div class="actions">
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create portal link'}
          </button>
        </div>
      </form>
      {link && <PortalLinkResult link={link} admin={session.admin} />}
      <h2>From your backend</h2>
      <p class="muted">
        Your product's server creates the link with a project key, per customer and visit; the answer's <code>url</code> is what you send them to.
      </p>
      <Command text={curl('POST', '/portal-sessions', exampleBody)} />
    </section>
  );
}

function PortalLinkResult({ link, admin }: { link: PortalLink; admin: boolean }) {
  const embed = `<iframe src="${link.url}" title="Webhooks" style="width: 100%; height: 720px; border: 0"></iframe>`;
  return (
    <section class="panel result" aria-labelledby="portal-result-title">
      <h2 id="portal-result-title">
        Portal link for <code>{link.consumer_id}</code>
        {link.read_only && <span class="badge muted">read only</span>}
      </h2>
      <p class="muted">
        Anyone with this link acts as <code>{link.consumer_id}</code> until it expires <Time iso={link.expires_at} /> ({new Date(link.expires_at).toLocaleString()}). Treat it like a
        password.
      </p>
      <div class="command">
        <code data-testid="portal-url">{link.url}</code>
        <CopyButton text={link.url} label="Copy portal link" />
      </div>
      <p class="actions">
        <a class="button secondary" href={link.url} target="_blank" rel="noopener noreferrer">
          Open portal
          <span class="visually-hidden"> (opens in a new tab)</span>
        </a>
      </p>
      <h3>Embed it</h3>
      <div class="command">
        <code>{embed}</code>
        <CopyButton text={embed} label="Copy embed code" />
      </div>
      <p class="hint">
        A page can frame the portal only if its origin is listed in the project's <code>portal_frame_ancestors</code>
        {admin ? (
          <>
            {' '}
            (<a href={href('/projects')}>Projects</a> → the project → Allowed embedding origins)
          </>
        ) : (
          ' (the admin sets it in Projects)'
        )}
        ; browsers refuse it anywhere else.
      </p>
      <p class="visually-hidden" role="status">
        Portal link created.
      </p>
    </section>
  );
}
