/**
 * Deliveries: every (message, endpoint) pair and where it stands, filtered by the hash query so a
 * filtered list can be bookmarked; bulk replay of the current filter.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { href, navigate } from '../router';
import { canWrite, useSession } from '../session-context';
import type { Delivery, DeliveryStatus, Endpoint, InboundEndpoint } from '../types';
import { Badge, Command, Empty, ErrorNote, ListTable, PageHeader, Time, useLoad } from '../ui';
import { curl } from './curl';
import { usePolledList } from './polled-list';
import { BulkReplay } from './bulk-replay';
import './deliveries.css';

export const STATUSES: DeliveryStatus[] = ['queued', 'delivering', 'pending_retry', 'paused', 'succeeded', 'failed', 'cancelled'];
/** Statuses that change on their own: the list refreshes while it shows one. */
const MOVING = new Set<string>(['queued', 'delivering', 'pending_retry']);
const PAGE = 50;

export type Filters = Partial<Record<'status' | 'endpoint_id' | 'consumer_id' | 'event_type' | 'since' | 'until', string>>;
const FILTER_KEYS = ['status', 'endpoint_id', 'consumer_id', 'event_type', 'since', 'until'] as const;

function readFilters(query: URLSearchParams, portal: boolean): Filters {
  const f: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = query.get(k)?.trim();
    // A portal sees one consumer's deliveries anyway (the API forces it).
    if (v && !(portal && k === 'consumer_id')) f[k] = v;
  }
  return f;
}

/** datetime-local wants "2026-01-31T14:05" in local time; the API wants RFC 3339. */
function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function localInputToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function DeliveriesView({ query }: { params: Record<string, string>; query: URLSearchParams }) {
  const session = useSession();
  const portal = session.portal !== null;
  const filters = readFilters(query, portal);
  const key = JSON.stringify(filters);
  const [poll, setPoll] = useState(false);
  const list = usePolledList<Delivery>((cursor) => api.get<Page<Delivery>>('/deliveries', { ...filters, limit: PAGE, cursor }), [key], poll ? 5000 : undefined);
  const endpoints = useLoad(() => loadEndpointNames(portal), [portal]);
  // An empty list refreshes too: a newcomer who just ran the command below sees the delivery arrive.
  const moving = list.items !== undefined && (list.items.length === 0 || list.items.some((r) => MOVING.has(r.status)));
  useEffect(() => setPoll(moving), [moving]);

  const setFilter = (name: keyof Filters, value: string | undefined) => navigate('/deliveries', { ...filters, [name]: value || undefined }, true);
  const filtered = Object.keys(filters).length > 0;
  const names = endpoints.data ?? new Map<string, string>();

  return (
    <section>
      <PageHeader title="Deliveries">
        {canWrite(session) && <BulkReplay filters={filters} portal={portal} onDone={list.reload} />}
      </PageHeader>
      <FilterBar filters={filters} portal={portal} names={names} setFilter={setFilter} />
      <ErrorNote error={list.error} />
      <ListTable
        list={list}
        empty={
          filtered ? (
            <Empty title="No deliveries match this filter">
              <p>
                Nothing matches these filters. <a href={href('/deliveries')}>Show all deliveries</a>.
              </p>
            </Empty>
          ) : (
            <NoDeliveries portal={portal} firstEndpoint={[...names.keys()].find((id) => id.startsWith('ep_'))} />
          )
        }
        note={poll && <p class="hint refreshing">Refreshing every 5 s while deliveries are on their way.</p>}
      >
        {(items) => (
          <table class="deliveries" aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Event type</th>
                <th scope="col" class="optional">
                  Endpoint
                </th>
                <th scope="col" class="optional">
                  Attempts
                </th>
                <th scope="col">Last code</th>
                <th scope="col" class="optional">
                  Last attempt
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Badge value={d.status} />
                  </td>
                  <td>
                    <a href={href(`/deliveries/${encodeURIComponent(d.id)}`)}>{d.event_type || d.id}</a>
                  </td>
                  <td class="optional endpoint">
                    <EndpointLink id={d.endpoint_id} name={names.get(d.endpoint_id)} />
                  </td>
                  <td class="optional num">{d.attempt_count}</td>
                  <td class="num">{d.last_status_code ?? <span class="muted">—</span>}</td>
                  <td class="optional">
                    <Time iso={d.last_attempt_at} />
                  </td>
                  <td>
                    <Time iso={d.created_at} />
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

/** Endpoint ids → URLs (inbound endpoints → names), for the table and the filter's suggestions. */
async function loadEndpointNames(portal: boolean): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const outbound = await api.get<Page<Endpoint>>('/endpoints', { limit: 250 });
  for (const e of outbound.data) names.set(e.id, e.url);
  // Forwarding deliveries of inbound endpoints are deliveries too; a portal has none.
  if (!portal) {
    try {
      const inbound = await api.get<Page<InboundEndpoint>>('/inbound-endpoints', { limit: 250 });
      for (const e of inbound.data) names.set(e.id, `inbound: ${e.name}`);
    } catch {
      /* names are a convenience: the ids still show */
    }
  }
  return names;
}

export function EndpointLink({ id, name }: { id: string; name?: string }) {
  const path = id.startsWith('in_') ? `/inbound/${encodeURIComponent(id)}` : `/endpoints/${encodeURIComponent(id)}`;
  return (
    <a href={href(path)} title={id}>
      {name ?? <code>{id}</code>}
    </a>
  );
}

function FilterBar({ filters, portal, names, setFilter }: { filters: Filters; portal: boolean; names: Map<string, string>; setFilter: (k: keyof Filters, v: string | undefined) => void }) {
  return (
    <form class="filters" role="search" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
      <div>
        <label for="f-status">Status</label>
        <select id="f-status" value={filters.status ?? ''} onChange={(e) => setFilter('status', (e.target as HTMLSelectElement).value)}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-endpoint">Endpoint</label>
        <TextFilter id="f-endpoint" value={filters.endpoint_id} placeholder="ep_… or in_…" list="f-endpoint-options" onCommit={(v) => setFilter('endpoint_id', v)} />
        <datalist id="f-endpoint-options">
          {[...names].map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </datalist>
      </div>
      {!portal && (
        <div>
          <label for="f-consumer">Consumer</label>
          <TextFilter id="f-consumer" value={filters.consumer_id} placeholder="consumer id" onCommit={(v) => setFilter('consumer_id', v)} />
        </div>
      )}
      <div>
        <label for="f-event-type">Event type</label>
        <TextFilter id="f-event-type" value={filters.event_type} placeholder="order.paid" onCommit={(v) => setFilter('event_type', v)} />
      </div>
      <div>
        <label for="f-since">Since</label>
        <input id="f-since" type="datetime-local" value={isoToLocalInput(filters.since)} onChange={(e) => setFilter('since', localInputToIso((e.target as HTMLInputElement).value))} />
      </div>
      <div>
        <label for="f-until">Until</label>
        <input id="f-until" type="datetime-local" value={isoToLocalInput(filters.until)} onChange={(e) => setFilter('until', localInputToIso((e.target as HTMLInputElement).value))} />
      </div>
      {Object.keys(filters).length > 0 && (
        <div>
          <a class="button secondary small" href={href('/deliveries')}>
            Clear filters
          </a>
        </div>
      )}
    </form>
  );
}

/** A text filter applied as the user pauses typing (or leaves the field / presses Enter). */
function TextFilter({ id, value, placeholder, list, onCommit }: { id: string; value: string | undefined; placeholder: string; list?: string; onCommit: (v: string | undefined) => void }) {
  const [draft, setDraft] = useState(value ?? '');
  useEffect(() => setDraft(value ?? ''), [value]);
  useEffect(() => {
    if (draft.trim() === (value ?? '')) return;
    const t = setTimeout(() => onCommit(draft.trim() || undefined), 400);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft]);
  const commit = () => draft.trim() !== (value ?? '') && onCommit(draft.trim() || undefined);
  return (
    <input
      id={id}
      type="search"
      value={draft}
      placeholder={placeholder}
      list={list}
      autocomplete="off"
      onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
      onChange={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
    />
  );
}

function NoDeliveries({ portal, firstEndpoint }: { portal: boolean; firstEndpoint: string | undefined }) {
  if (portal) {
    return (
      <Empty title="No deliveries yet">
        <p>
          A delivery is one event sent to one of your endpoints. Open an endpoint on the <a href={href('/endpoints')}>Endpoints</a> page and use
          “Send test event” to see one arrive here.
        </p>
      </Empty>
    );
  }
  const ep = firstEndpoint ?? 'ep_…';
  const command = curl('POST', '/messages', { event_type: 'order.paid', endpoint_id: ep, payload: { order_id: 'o_1001' } });
  return (
    <Empty title="No deliveries yet">
      <p>
        A delivery is one message sent to one endpoint. Publish a message and every endpoint it matches gets a delivery; it shows up here with
        each attempt.
      </p>
      {!firstEndpoint && (
        <p>
          First <a href={href('/endpoints/new')}>create an endpoint</a> (the URL that receives the webhooks), then send a message:
        </p>
      )}
      <Command text={`hookbridge send --endpoint ${ep} --event-type order.paid --data '{"order_id":"o_1001"}'`} />
      <p class="muted">or with curl:</p>
      <Command text={command} />
    </Empty>
  );
}
