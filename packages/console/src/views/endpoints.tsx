/**
 * Endpoints: where outbound webhooks go, with their status and the success rate of the last 24 h;
 * filtered by status and consumer through the hash query. In a consumer portal the list is the
 * consumer's own (the API limits it) and the rates are not shown (the metrics routes are not the
 * portal's).
 */
import { api } from '../api';
import { href, navigate } from '../router';
import { canWrite, useSession } from '../session-context';
import type { Endpoint, EndpointStats, EndpointStatus } from '../types';
import { Badge, Command, Empty, ErrorNote, ListTable, PageHeader, useLoad } from '../ui';
import { curl } from './curl';
import { percent, rateTone } from './metrics-format';
import { usePagedList } from './paged-list';
import './endpoints.css';

const STATUSES: EndpointStatus[] = ['active', 'paused', 'disabled'];

export function EndpointsView({ query }: { params: Record<string, string>; query: URLSearchParams }) {
  const session = useSession();
  const portal = session.portal !== null;
  const status = query.get('status') || undefined;
  const consumer = portal ? undefined : query.get('consumer_id')?.trim() || undefined;
  const list = usePagedList<Endpoint>('/endpoints', { status, consumer_id: consumer });
  const rates = useLoad(() => (portal ? Promise.resolve(new Map<string, EndpointStats>()) : loadRates()), [portal]);
  const filtered = status !== undefined || consumer !== undefined;
  const setFilter = (name: 'status' | 'consumer_id', value: string | undefined) => navigate('/endpoints', { status, consumer_id: consumer, [name]: value || undefined }, true);

  return (
    <section class="endpoints">
      <PageHeader title="Endpoints">
        {canWrite(session) && (
          <a class="button" href={href('/endpoints/new')}>
            New endpoint
          </a>
        )}
      </PageHeader>
      <p class="muted lead">
        {portal ? 'The URLs where you receive webhooks.' : 'The URLs your consumers receive webhooks at. Each message goes to the endpoints whose consumer, event types and channels match.'}
      </p>
      <form class="filters" role="search" aria-label="Filter endpoints" onSubmit={(e) => {
          e.preventDefault();
          const input = (e.target as HTMLFormElement).querySelector<HTMLInputElement>('#ep-f-consumer');
          if (input) setFilter('consumer_id', input.value.trim());
        }}
      >
        <div>
          <label for="ep-f-status">Status</label>
          <select id="ep-f-status" value={status ?? ''} onChange={(e) => setFilter('status', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        {!portal && (
          <div>
            <label for="ep-f-consumer">Consumer</label>
            {/* Applied on Enter or on leaving the field (a change event). */}
            <input
              id="ep-f-consumer"
              key={consumer ?? ''}
              type="search"
              defaultValue={consumer ?? ''}
              placeholder="consumer id"
              autocomplete="off"
              onChange={(e) => setFilter('consumer_id', (e.target as HTMLInputElement).value.trim())}
            />
          </div>
        )}
      </form>
      <ErrorNote error={list.error} />
      <ListTable
        list={list}
        empty={
          filtered ? (
            <Empty title="No endpoints match this filter">
              <p>
                <a href={href('/endpoints')}>Show all endpoints</a>
              </p>
            </Empty>
          ) : (
            <NoEndpoints portal={portal} writable={canWrite(session)} />
          )
        }
      >
        {(items) => (
          <table aria-label="Endpoints">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">URL</th>
                {!portal && <th scope="col">Consumer</th>}
                <th scope="col" class="optional">
                  Event types
                </th>
                {!portal && (
                  <th scope="col" class="num">
                    Success (24 h)
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Badge value={e.status} />
                  </td>
                  <td class="url">
                    <a href={href(`/endpoints/${encodeURIComponent(e.id)}`)}>{e.url}</a>
                    {e.description && <span class="hint">{e.description}</span>}
                  </td>
                  {!portal && <td>{e.consumer_id ?? <span class="muted">—</span>}</td>}
                  <td class="optional">
                    <TypeList types={e.event_types} />
                  </td>
                  {!portal && (
                    <td class="num">
                      <Rate stats={rates.data?.get(e.id)} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
    </section>
  );
}

/** The 24 h rates of the project's endpoints, by id (one grouped query on the server). */
async function loadRates(): Promise<Map<string, EndpointStats>> {
  const res = await api.get<{ data: EndpointStats[] }>('/metrics/endpoints', { window: '24h', limit: 1000 });
  return new Map(res.data.map((r) => [r.endpoint_id, r]));
}

function Rate({ stats }: { stats: EndpointStats | undefined }) {
  if (!stats || stats.attempts === 0) return <span class="muted" title="no attempts in the last 24 hours">—</span>;
  return (
    <span class={`rate rate-${rateTone(stats.success_rate)}`} title={`${stats.succeeded} of ${stats.attempts} attempts succeeded`}>
      {percent(stats.success_rate)}
      <span class="hint">{stats.attempts.toLocaleString()} attempts</span>
    </span>
  );
}

export function TypeList({ types }: { types: string[] | null }) {
  if (!types || types.length === 0) return <span class="muted">all</span>;
  return (
    <span class="type-list">
      {types.map((t) => (
        <code key={t}>{t}</code>
      ))}
    </span>
  );
}

function NoEndpoints({ portal, writable }: { portal: boolean; writable: boolean }) {
  const url = 'https://example.com/webhooks';
  if (portal) {
    return (
      <Empty title="No endpoints yet">
        <p>{writable ? 'Add the URL where you want to receive webhooks with “New endpoint”.' : 'No endpoint has been set up for you yet.'}</p>
      </Empty>
    );
  }
  return (
    <Empty title="No endpoints yet">
      <p>An endpoint is a URL that receives your webhooks, signed with its own secret. Create one with “New endpoint”, or from a terminal:</p>
      <Command text={`hookbridge endpoints create --url ${url} --event-type order.paid`} />
      <Command text={curl('POST', '/endpoints', { url, event_types: ['order.paid'] })} />
      <p class="muted">
        Add <code>--consumer acme</code> (<code>consumer_id</code>) to send it only the messages of one of your customers.
      </p>
    </Empty>
  );
}
