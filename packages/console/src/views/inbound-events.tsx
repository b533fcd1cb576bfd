/** The sections of an inbound endpoint's page: events, events waiting to be pulled, rejections. */
import { useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { href } from '../router';
import type { InboundEndpoint, InboundEvent, InboundRejection } from '../types';
import { Badge, Command, ErrorNote, headerLines, JsonBlock, ListTable, Loading, Time, useAction, useLoad } from '../ui';
import { curl } from './curl';
import { usePolledList } from './polled-list';
import './inbound.css';

/** The inbound pages refresh at this pace. */
export const POLL_MS = 5000;
const enc = encodeURIComponent;
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** What each refusal reason means (docs/api.md, "The ingest URL"). */
const REASONS: Record<string, string> = {
  missing_signature: 'no signature (or timestamp) header',
  invalid_signature: 'the signature did not match the body',
  timestamp_out_of_range: 'the signed timestamp is outside the tolerance',
  invalid_token: 'missing or wrong token or password',
  ip_not_allowed: 'the source is outside the allowed CIDRs',
  payload_too_large: 'the body is over the size limit',
  endpoint_paused: 'the endpoint was paused',
};

/** A request a newcomer can send to see the ingest URL work (or be refused, which shows too). */
function ingestCurl(ep: InboundEndpoint): string {
  const type = ep.verification.type;
  const auth = type === 'token' ? ` -H 'Authorization: Bearer <token>'` : type === 'basic' ? ` -u '<username>:<password>'` : '';
  return `curl -s -X POST ${ep.ingest_url}${auth} \\\n  -H 'content-type: application/json' -d '{"id":"evt_test_1","type":"test.event"}'`;
}

export function InboundEvents({ endpoint: ep }: { endpoint: InboundEndpoint }) {
  const list = usePolledList<InboundEvent>((cursor) => api.get<Page<InboundEvent>>('/inbound-events', { inbound_endpoint_id: ep.id, limit: 25, cursor }), [ep.id], POLL_MS);
  const [selected, setSelected] = useState<string>();
  const replay = useAction(async (id: string) => {
    await api.post(`/inbound-events/${enc(id)}/replay`);
    list.reload();
  });
  const shown = list.items?.find((e) => e.id === selected);
  const signed = !['none', 'token', 'basic'].includes(String(ep.verification.type));
  return (
    <section aria-labelledby="events-h">
      <h2 id="events-h">Events</h2>
      <ErrorNote error={list.error} />
      <ErrorNote error={replay.error} />
      <ListTable
        list={list}
        empty={
          <div class="empty">
            <p>No events yet. Point the provider at the ingest URL, or send one yourself:</p>
            <Command text={ingestCurl(ep)} />
            {signed && <p class="hint">Without a valid {String(ep.verification.type)} signature it is refused, and shows up under Rejections below.</p>}
          </div>
        }
      >
        {(items) => (
          <table aria-label="Inbound events">
            <thead>
              <tr>
                <EventHeads />
                <th scope="col">{ep.mode === 'forward' ? 'Forwarding' : 'Status'}</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} class={e.id === selected ? 'selected' : undefined}>
                  <EventCells event={e} />
                  <td>
                    <EventStatus event={e} />
                  </td>
                  <td class="actions">
                    <button type="button" class="secondary small" aria-expanded={e.id === selected} aria-label={`View event ${e.id}`} onClick={() => setSelected(e.id === selected ? undefined : e.id)}>
                      {e.id === selected ? 'Hide' : 'View'}
                    </button>
                    {e.delivery && ep.mode === 'forward' && FINAL.has(e.delivery.status) && (
                      <button type="button" class="secondary small" disabled={replay.busy} aria-label={`Replay event ${e.id}`} onClick={() => void replay.run(e.id)}>
                        Replay
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
      {shown && <EventView event={shown} />}
    </section>
  );
}

/** The first columns of both event tables: when it came, its type, its id. */
function EventHeads() {
  return (
    <>
      <th scope="col">Received</th>
      <th scope="col">Event type</th>
      <th scope="col" class="optional">
        Event
      </th>
    </>
  );
}

function EventCells({ event: e }: { event: InboundEvent }) {
  return (
    <>
      <td>
        <Time iso={e.created_at} />
      </td>
      <td>{e.event_type ? <code>{e.event_type}</code> : <span class="muted">—</span>}</td>
      <td class="optional">
        <code>{e.id}</code>
      </td>
    </>
  );
}

function EventStatus({ event: e }: { event: InboundEvent }) {
  if (e.delivery)
    return (
      <a href={href(`/deliveries/${enc(e.delivery.id)}`)} aria-label={`Delivery ${e.delivery.id}: ${e.delivery.status.replace('_', ' ')}`}>
        <Badge value={e.delivery.status} />
        {e.delivery.last_status_code !== null && <span class="muted"> {e.delivery.last_status_code}</span>}
      </a>
    );
  if (e.acked_at)
    return (
      <span>
        acknowledged <Time iso={e.acked_at} />
      </span>
    );
  return <Badge value="queued" />;
}

function EventView({ event: e }: { event: InboundEvent }) {
  const headers = headerLines(e.headers);
  return (
    <section class="event-view panel" aria-label={`Event ${e.id}`}>
      <h3>Event {e.id}</h3>
      <dl class="facts">
        <dt>Source IP</dt>
        <dd>{e.source_ip ?? '—'}</dd>
        <dt>Dedupe key</dt>
        <dd>{e.dedupe_key ? <code>{e.dedupe_key}</code> : '—'}</dd>
        <dt>Request id</dt>
        <dd>{e.request_id ? <code>{e.request_id}</code> : '—'}</dd>
      </dl>
      <h4>Headers</h4>
      <p class="hint">As received, minus hop-by-hop headers and the provider’s credentials.</p>
      <pre class="headers" tabIndex={0} aria-label="Event headers">
        <code>{headers || '(none kept)'}</code>
      </pre>
      <h4>Body</h4>
      {e.body === null ? (
        <p class="muted">
          {e.payload_removed_at ? (
            <>
              Removed <Time iso={e.payload_removed_at} /> by payload retention.
            </>
          ) : (
            'Empty.'
          )}
        </p>
      ) : e.body_encoding === 'base64' ? (
        <>
          <p class="hint">Not UTF-8 text: shown as base64.</p>
          <pre class="json" tabIndex={0} aria-label="Event body">
            <code>{e.body}</code>
          </pre>
        </>
      ) : (
        <JsonBlock value={e.body} label="Event body" />
      )}
    </section>
  );
}

/** Pull and cli endpoints hold events until a consumer acknowledges them. */
export function PendingEvents({ endpoint: ep }: { endpoint: InboundEndpoint }) {
  const pending = useLoad(() => api.get<Page<InboundEvent>>(`/inbound-endpoints/${enc(ep.id)}/events`, { limit: 50 }), [ep.id], POLL_MS);
  const ack = useAction(async (ids: string[]) => {
    await api.post(`/inbound-endpoints/${enc(ep.id)}/events/ack`, { ids });
    pending.reload();
  });
  const rows = pending.data?.data ?? [];
  return (
    <section aria-labelledby="pending-h">
      <div class="section-head">
        <h2 id="pending-h">Waiting to be acknowledged</h2>
        {rows.length > 1 && (
          <button type="button" class="secondary small" disabled={ack.busy} onClick={() => void ack.run(rows.map((e) => e.id))}>
            Acknowledge all {rows.length}
            {pending.data?.has_more ? ' shown' : ''}
          </button>
        )}
      </div>
      <ErrorNote error={pending.error ?? ack.error} />
      {pending.data === undefined ? (
        pending.error ? null : <Loading />
      ) : rows.length === 0 ? (
        <div class="empty">
          <p>Nothing waiting. {ep.mode === 'cli' ? 'Receive the events on your machine with:' : 'Your service fetches events (long-polling up to 60 s) and acknowledges them:'}</p>
          {ep.mode === 'cli' ? (
            <Command text={`hookbridge listen --endpoint ${ep.id} --forward-to http://localhost:3000/webhooks`} />
          ) : (
            <>
              <Command text={curl('GET', `/inbound-endpoints/${ep.id}/events?wait=30`)} />
              <Command text={curl('POST', `/inbound-endpoints/${ep.id}/events/ack`, { ids: ['ie_…'] })} />
            </>
          )}
        </div>
      ) : (
        <div class="table-wrap">
          <table aria-label="Events waiting to be acknowledged">
            <thead>
              <tr>
                <EventHeads />
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id}>
                  <EventCells event={e} />
                  <td>
                    <button type="button" class="secondary small" disabled={ack.busy} aria-label={`Acknowledge event ${e.id}`} onClick={() => void ack.run([e.id])}>
                      Acknowledge
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Rejections({ endpoint: ep }: { endpoint: InboundEndpoint }) {
  const list = usePolledList<InboundRejection>((cursor) => api.get<Page<InboundRejection>>('/inbound-rejections', { inbound_endpoint_id: ep.id, limit: 25, cursor }), [ep.id], POLL_MS);
  return (
    <section aria-labelledby="rejections-h">
      <h2 id="rejections-h">Rejections</h2>
      <ErrorNote error={list.error} />
      <ListTable list={list} empty={<p class="muted">No refused requests. Requests that fail verification are listed here with their reason, and are never forwarded.</p>}>
        {(items) => (
          <table aria-label="Rejections">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Reason</th>
                <th scope="col">Status</th>
                <th scope="col" class="optional">
                  Source IP
                </th>
                <th scope="col" class="optional">
                  Body
                </th>
                <th scope="col" class="optional">
                  Headers
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Time iso={r.created_at} />
                  </td>
                  <td class="reason">
                    <code>{r.reason}</code>
                    {REASONS[r.reason] && <span class="hint">{REASONS[r.reason]}</span>}
                  </td>
                  <td>{r.status_code}</td>
                  <td class="optional">{r.source_ip ?? '—'}</td>
                  <td class="optional">{r.body_bytes} bytes</td>
                  <td class="optional">
                    <details>
                      <summary>{Object.keys(r.headers).length} headers</summary>
                      <pre class="headers">
                        <code>{headerLines(r.headers)}</code>
                      </pre>
                    </details>
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
