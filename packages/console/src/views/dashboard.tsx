/**
 * Dashboard: how deliveries are going over a window (totals, volume and latency charts, the
 * endpoints failing most) and what is waiting now (the backlog). Polls every 5 s while visible.
 * A project that has sent nothing yet sees the first steps instead.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { Chart } from '../chart';
import { href, navigate } from '../router';
import type { Backlog, Endpoint, EndpointStats, Message, Metrics, MetricsTimeseries, MetricsWindow } from '../types';
import { Badge, Command, Empty, ErrorNote, Loading, PageHeader, useLoad } from '../ui';
import { curl } from './curl';
import { millis, percent, rateTone, readWindow, WINDOWS } from './metrics-format';
import './dashboard.css';

const POLL_MS = 5000;
const FAILING_ROWS = 5;

interface DashboardData {
  summary: Metrics;
  series: MetricsTimeseries;
  backlog: Backlog;
  endpoints: EndpointStats[];
  at: number;
}

async function loadDashboard(window: MetricsWindow): Promise<DashboardData> {
  const [summary, series, backlog, endpoints] = await Promise.all([
    api.get<Metrics>('/metrics', { window }),
    api.get<MetricsTimeseries>('/metrics/timeseries', { window }),
    api.get<Backlog>('/metrics/backlog'),
    api.get<{ data: EndpointStats[] }>('/metrics/endpoints', { window, limit: FAILING_ROWS }),
  ]);
  return { summary, series, backlog, endpoints: endpoints.data, at: Date.now() };
}

export function DashboardView({ query }: { params: Record<string, string>; query: URLSearchParams }) {
  const window = readWindow(query);
  // Whether anything was ever sent: a newcomer gets the first steps, polled until a message arrives.
  const [waiting, setWaiting] = useState(false);
  const start = useLoad(() => Promise.all([api.get<Page<Message>>('/messages', { limit: 1 }), api.get<Page<Endpoint>>('/endpoints', { limit: 1 })]), [], waiting ? POLL_MS : undefined);
  const nothingSent = start.data !== undefined && start.data[0].data.length === 0;
  useEffect(() => setWaiting(nothingSent), [nothingSent]);

  return (
    <section class="dashboard">
      <PageHeader title="Dashboard">{start.data && !nothingSent && <WindowSwitch value={window} />}</PageHeader>
      <ErrorNote error={start.error} />
      {!start.data ? start.loading && <Loading /> : nothingSent ? <FirstSteps endpoint={start.data[1].data[0]} /> : <Overview window={window} />}
    </section>
  );
}

function WindowSwitch({ value }: { value: MetricsWindow }) {
  return (
    <div class="window-switch" role="group" aria-label="Time window">
      {WINDOWS.map((w) => (
        <button key={w.value} type="button" class={w.value === value ? 'small' : 'secondary small'} aria-pressed={w.value === value} onClick={() => navigate('/', { window: w.value }, true)}>
          {w.label}
        </button>
      ))}
    </div>
  );
}

function Overview({ window }: { window: MetricsWindow }) {
  const stats = useLoad(() => loadDashboard(window), [window], POLL_MS);
  const data = stats.data;
  if (!data) return stats.error ? <ErrorNote error={stats.error} /> : <Loading />;
  const { summary: s } = data;
  // The data of the window shown (a switch keeps the last data until the new window's arrive).
  const long = WINDOWS.find((w) => w.value === s.window)?.long ?? s.window;
  return (
    <>
      <ErrorNote error={stats.error} />
      <p class="hint updated" aria-live="off">
        Over {long}. Updated {new Date(data.at).toLocaleTimeString()}; refreshes every {POLL_MS / 1000} s.
      </p>
      <div class="cards" aria-label="Totals">
        <Card label="Messages" value={s.total_messages.toLocaleString()} />
        <Card label="Deliveries" value={s.deliveries.toLocaleString()} note={`${s.succeeded} succeeded · ${s.failed} failed · ${s.pending} pending`} />
        <Card label="Success rate" value={percent(s.success_rate)} note="of finished deliveries" tone={rateTone(s.success_rate)} />
        <Card label="Avg latency" value={millis(s.avg_latency_ms)} note={`over ${s.attempts.toLocaleString()} attempts`} />
      </div>
      <BacklogCards backlog={data.backlog} />
      <Charts series={data.series} long={long} />
      <FailingMost rows={data.endpoints} long={long} />
    </>
  );
}

function Card({ label, value, note, tone, link }: { label: string; value: string; note?: string; tone?: string; link?: string }) {
  return (
    <div class={`card${tone ? ` tone-${tone}` : ''}`}>
      <div class="value">{link ? <a href={link}>{value}</a> : value}</div>
      <div class="label">{label}</div>
      {note && <div class="note">{note}</div>}
    </div>
  );
}

function BacklogCards({ backlog: b }: { backlog: Backlog }) {
  const deliveries = (status: string) => href('/deliveries', { status });
  return (
    <section aria-labelledby="backlog-title">
      <h2 id="backlog-title">
        Backlog <span class="hint inline">now, whatever the window</span>
      </h2>
      <div class="cards backlog">
        {/* Due and Scheduled each mix queued and pending_retry deliveries, which one status filter cannot show: no link rather than a wrong one. */}
        <Card label="Due" value={String(b.due)} note="waiting for a worker" tone={b.due > 0 ? 'warn' : undefined} />
        <Card label="Scheduled" value={String(b.scheduled)} note="retries and fifo lines, later" />
        <Card label="Failed" value={String(b.failed)} note="gave up; replay them" tone={b.failed > 0 ? 'bad' : undefined} link={deliveries('failed')} />
        <Card label="Delivering" value={String(b.delivering)} note="attempt in flight" link={deliveries('delivering')} />
        <Card label="Paused" value={String(b.paused)} note="held by paused endpoints" link={deliveries('paused')} />
      </div>
    </section>
  );
}

const PER: Record<number, string> = { 60: 'per minute', 3600: 'per hour', 21600: 'per 6 hours', 86400: 'per day' };

function Charts({ series, long }: { series: MetricsTimeseries; long: string }) {
  const chart = useMemo(() => {
    const times = series.data.map((b) => Date.parse(b.timestamp));
    const sum = (k: 'succeeded' | 'failed' | 'retrying' | 'total') => series.data.reduce((a, b) => a + b[k], 0);
    const busiest = series.data.reduce((a, b) => (b.total > a.total ? b : a), series.data[0]);
    const latencies = series.data.map((b) => b.avg_latency_ms).filter((v): v is number => v !== null);
    const per = PER[series.bucket_seconds] ?? `per ${series.bucket_seconds} s`;
    const volumeSummary =
      sum('total') === 0
        ? `No attempts in ${long}.`
        : `Attempts ${per} over ${long}: ${sum('succeeded')} succeeded, ${sum('failed')} failed for good, ${sum('retrying')} to be retried. ` +
          `Busiest: ${busiest.total} at ${new Date(busiest.timestamp).toLocaleString()}.`;
    const latencySummary =
      latencies.length === 0
        ? `No attempts in ${long}, so no latency.`
        : `Mean attempt latency ${per} over ${long}: lowest ${millis(Math.min(...latencies))}, highest ${millis(Math.max(...latencies))}.`;
    return {
      times,
      volume: [
        { label: 'Succeeded', colorVar: '--ok', values: series.data.map((b) => b.succeeded) },
        { label: 'Failed', colorVar: '--bad', values: series.data.map((b) => b.failed) },
        { label: 'Retrying', colorVar: '--warn', values: series.data.map((b) => b.retrying) },
      ],
      latency: [{ label: 'Avg latency', colorVar: '--info', values: series.data.map((b) => b.avg_latency_ms) }],
      volumeSummary,
      latencySummary,
      per,
    };
  }, [series, long]);
  return (
    <div class="charts">
      <section class="panel chart-panel" aria-labelledby="volume-title">
        <h2 id="volume-title">Volume</h2>
        <Chart label={`Delivery attempts ${chart.per}, by outcome`} summary={chart.volumeSummary} times={chart.times} series={chart.volume} wholeNumbers format={(v) => v.toLocaleString()} />
      </section>
      <section class="panel chart-panel" aria-labelledby="latency-title">
        <h2 id="latency-title">Latency</h2>
        <Chart label={`Mean attempt latency ${chart.per}`} summary={chart.latencySummary} times={chart.times} series={chart.latency} format={millis} />
      </section>
    </div>
  );
}

function FailingMost({ rows, long }: { rows: EndpointStats[]; long: string }) {
  const failing = rows.filter((r) => r.failed > 0);
  return (
    <section aria-labelledby="failing-title">
      <h2 id="failing-title">Endpoints failing most</h2>
      {failing.length === 0 ? (
        <p class="muted">No failed attempts in {long}.</p>
      ) : (
        <div class="table-wrap">
          <table aria-labelledby="failing-title">
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col" class="optional">
                  Status
                </th>
                <th scope="col" class="num">
                  Failed attempts
                </th>
                <th scope="col" class="num optional">
                  Attempts
                </th>
                <th scope="col" class="num">
                  Success
                </th>
                <th scope="col" class="num optional">
                  Latency
                </th>
              </tr>
            </thead>
            <tbody>
              {failing.map((r) => (
                <tr key={r.endpoint_id}>
                  <td class="url">
                    <a href={href(`/endpoints/${encodeURIComponent(r.endpoint_id)}`)}>{r.url}</a>
                  </td>
                  <td class="optional">
                    <Badge value={r.status} />
                  </td>
                  <td class="num">
                    <a href={href('/deliveries', { endpoint_id: r.endpoint_id })} aria-label={`${r.failed} failed attempts: see the deliveries of ${r.url}`}>
                      {r.failed}
                    </a>
                  </td>
                  <td class="num optional">{r.attempts}</td>
                  <td class={`num rate-${rateTone(r.success_rate)}`}>{percent(r.success_rate)}</td>
                  <td class="num optional">{millis(r.avg_latency_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function FirstSteps({ endpoint }: { endpoint: Endpoint | undefined }) {
  const epId = endpoint?.id ?? 'ep_…';
  const url = 'https://example.com/webhooks';
  return (
    <Empty title="Nothing sent yet">
      <p>Hookbridge delivers the events your application sends to your customers’ endpoints, retrying until they answer. Two steps to the first delivery:</p>
      <ol class="steps">
        <li>
          <h3>{endpoint ? 'An endpoint is ready' : 'Create an endpoint'}</h3>
          {endpoint ? (
            <p>
              <a href={href(`/endpoints/${encodeURIComponent(endpoint.id)}`)}>{endpoint.url}</a> will receive the webhooks. Its page has “Send test event”.
            </p>
          ) : (
            <>
              <p>The URL that receives the webhooks.</p>
              <p>
                <a class="button" href={href('/endpoints/new')}>
                  New endpoint
                </a>
              </p>
              <p class="muted">or from a terminal (after <code>hookbridge login --url {location.origin}</code>):</p>
              <Command text={`hookbridge endpoints create --url ${url} --event-type order.paid`} />
              <Command text={curl('POST', '/endpoints', { url, event_types: ['order.paid'] })} />
            </>
          )}
        </li>
        <li>
          <h3>Send a message</h3>
          <p>From your application (or a terminal); it shows up here within seconds.</p>
          <Command text={`hookbridge send --endpoint ${epId} --event-type order.paid --data '{"order_id":"o_1001"}'`} />
          <Command text={curl('POST', '/messages', { event_type: 'order.paid', endpoint_id: epId, payload: { order_id: 'o_1001' } })} />
          <p class="muted">
            Without <code>endpoint_id</code> a message goes to every endpoint whose event types match.
          </p>
        </li>
      </ol>
    </Empty>
  );
}
