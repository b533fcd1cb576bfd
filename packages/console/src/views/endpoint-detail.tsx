/**
 * One endpoint: its settings, the last 24 h, and what can be done with it (test event, pause and
 * resume, secret rotation, edit, delete). Write controls are hidden in a read-only portal; the API
 * refuses them there anyway.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { href, navigate } from '../router';
import { canWrite, useSession } from '../session-context';
import type { Endpoint, MessageAccepted, Metrics, RotatedSecret } from '../types';
import { Badge, Confirm, ErrorNote, Loading, PageHeader, SecretOnce, Time, useAction, useLoad } from '../ui';
import { TypeList } from './endpoints';
import { millis, percent, rateTone } from './metrics-format';
import './endpoints.css';

/**
 * The signing secret of an endpoint just created, from the form to this page: in memory, taken
 * once, so it never sits in the URL, the history or storage.
 */
let handedOver: { id: string; secret: string } | null = null;
export function handOverSecret(id: string, secret: string): void {
  handedOver = { id, secret };
}
function takeSecret(id: string): string | undefined {
  const h = handedOver;
  handedOver = null;
  return h && h.id === id ? h.secret : undefined;
}

export function EndpointDetailView({ params }: { params: Record<string, string>; query: URLSearchParams }) {
  const id = params.id;
  const path = `/endpoints/${encodeURIComponent(id)}`;
  const session = useSession();
  const portal = session.portal !== null;
  const [createdSecret] = useState(() => takeSecret(id));
  const endpoint = useLoad(() => api.get<Endpoint>(path), [id]);
  const stats = useLoad(() => (portal ? Promise.resolve(null) : api.get<Metrics>('/metrics', { window: '24h', endpoint_id: id })), [id, portal]);
  const e = endpoint.data;

  return (
    <section class="endpoint-detail">
      <p class="breadcrumb">
        <a href={href('/endpoints')}>← Endpoints</a>
      </p>
      {!e ? (
        endpoint.loading ? <Loading /> : <ErrorNote error={endpoint.error} />
      ) : (
        <>
          <PageHeader title={e.url}>
            <Badge value={e.status} />
          </PageHeader>
          {createdSecret && <SecretOnce label="Signing secret" value={createdSecret} />}
          <ErrorNote error={endpoint.error} />
          <Actions endpoint={e} writable={canWrite(session)} onChange={endpoint.reload} />
          {canWrite(session) && <TestEvent endpoint={e} />}
          {stats.data && <Recent stats={stats.data} />}
          <Facts e={e} portal={portal} />
        </>
      )}
    </section>
  );
}

function Actions({ endpoint: e, writable, onChange }: { endpoint: Endpoint; writable: boolean; onChange: () => void }) {
  const path = `/endpoints/${encodeURIComponent(e.id)}`;
  const [confirm, setConfirm] = useState<'rotate' | 'delete' | null>(null);
  const [grace, setGrace] = useState('86400');
  const [rotated, setRotated] = useState<RotatedSecret>();
  const toggle = useAction(async () => {
    await api.post<Endpoint>(`${path}/${e.status === 'active' ? 'pause' : 'resume'}`);
    onChange();
  });
  const rotate = useAction(async () => {
    setRotated(await api.post<RotatedSecret>(`${path}/secret/rotate`, { grace_seconds: Number(grace) }));
    setConfirm(null);
  });
  const remove = useAction(async () => {
    await api.del(path);
    setConfirm(null);
    navigate('/endpoints');
  });
  const deliveries = href('/deliveries', { endpoint_id: e.id });

  return (
    <>
      <div class="actions detail-actions">
        {writable && (
          <>
            <button type="button" class="secondary" onClick={() => navigate(`${path}/edit`)}>
              Edit
            </button>
            <button type="button" class="secondary" disabled={toggle.busy} onClick={() => void toggle.run()}>
              {e.status === 'active' ? 'Pause' : 'Resume'}
            </button>
            <button type="button" class="secondary" onClick={() => (rotate.clearError(), setConfirm('rotate'))}>
              Rotate secret
            </button>
            <button type="button" class="danger" onClick={() => (remove.clearError(), setConfirm('delete'))}>
              Delete
            </button>
          </>
        )}
        <a href={deliveries}>View deliveries</a>
      </div>
      <ErrorNote error={toggle.error} />
      {rotated && (
        <>
          <SecretOnce label="New signing secret" value={rotated.signing_secret} />
          <p class="hint">
            The previous secret keeps signing too until {new Date(rotated.previous_secret_expires_at).toLocaleString()} (<Time iso={rotated.previous_secret_expires_at} />): deliveries
            carry both signatures until then.
          </p>
        </>
      )}
      {/* One dialog at a time: Confirm's heading id is fixed. */}
      {confirm === 'rotate' && (
        <Confirm open title="Rotate the signing secret?" confirmLabel="Rotate now" busy={rotate.busy} onConfirm={() => void rotate.run()} onClose={() => setConfirm(null)}>
          <p>A new secret signs every delivery from now on. Give the receiver time to switch: the old one can keep signing alongside for a while.</p>
          <label for="rotate-grace">Old secret keeps working for</label>
          <select id="rotate-grace" value={grace} onChange={(ev) => setGrace((ev.target as HTMLSelectElement).value)}>
            <option value="0">no time (stop now)</option>
            <option value="3600">1 hour</option>
            <option value="86400">24 hours</option>
            <option value="604800">7 days</option>
          </select>
          <ErrorNote error={rotate.error} />
        </Confirm>
      )}
      {confirm === 'delete' && (
        <Confirm open title="Delete this endpoint?" confirmLabel="Delete endpoint" danger busy={remove.busy} onConfirm={() => void remove.run()} onClose={() => setConfirm(null)}>
          <p>
            <code>{e.url}</code> receives nothing more: its waiting deliveries are cancelled. Its deliveries and attempts stay readable.
          </p>
          <ErrorNote error={remove.error} />
        </Confirm>
      )}
    </>
  );
}

function TestEvent({ endpoint: e }: { endpoint: Endpoint }) {
  const [eventType, setEventType] = useState(e.event_types?.[0] ?? 'test.event');
  const send = useAction(() =>
    api.post<MessageAccepted>('/messages', { event_type: eventType.trim(), endpoint_id: e.id, payload: { test: true, sent_at: new Date().toISOString() } }),
  );
  const [sent, setSent] = useState<MessageAccepted>();
  const delivery = sent?.deliveries[0];
  return (
    <form
      class="inline-form panel test-event"
      aria-label="Send a test event"
      onSubmit={(ev) => {
        ev.preventDefault();
        setSent(undefined);
        void send.run().then((m) => m && setSent(m));
      }}
    >
      <div class="field">
        <label for="test-event-type">Event type</label>
        <input id="test-event-type" value={eventType} required onInput={(ev) => setEventType((ev.target as HTMLInputElement).value)} list="test-event-types" autocomplete="off" />
        <datalist id="test-event-types">
          {(e.event_types ?? []).map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </div>
      <div class="field-submit">
        <button type="submit" disabled={send.busy}>
          Send test event
        </button>
      </div>
      <ErrorNote error={send.error} />
      {sent && (
        <p class="result" role="status">
          {delivery ? (
            <>
              Sent: delivery <a href={href(`/deliveries/${encodeURIComponent(delivery.id)}`)}>{delivery.id}</a> <Badge value={delivery.status} />
            </>
          ) : (
            <>Accepted as message {sent.id}, with no delivery.</>
          )}
        </p>
      )}
    </form>
  );
}

function Recent({ stats: s }: { stats: Metrics }) {
  return (
    <section aria-labelledby="recent-title">
      <h2 id="recent-title">Last 24 hours</h2>
      <div class="cards">
        <div class="card">
          <div class="value">{s.deliveries.toLocaleString()}</div>
          <div class="label">Deliveries</div>
          <div class="note">
            {s.succeeded} succeeded · {s.failed} failed · {s.pending} pending
          </div>
        </div>
        <div class="card">
          <div class={`value rate-${rateTone(s.success_rate)}`}>{percent(s.success_rate)}</div>
          <div class="label">Success rate</div>
        </div>
        <div class="card">
          <div class="value">{s.attempts.toLocaleString()}</div>
          <div class="label">Attempts</div>
          <div class="note">{s.retries} retried</div>
        </div>
        <div class="card">
          <div class="value">{millis(s.avg_latency_ms)}</div>
          <div class="label">Avg latency</div>
        </div>
      </div>
    </section>
  );
}

const none = (text: string) => <span class="muted">{text}</span>;

function Facts({ e, portal }: { e: Endpoint; portal: boolean }) {
  const headers = Object.keys(e.headers);
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <dl class="facts">
        <dt>ID</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
        <dt>URL</dt>
        <dd>
          <code>{e.url}</code>
        </dd>
        <dt>Status</dt>
        <dd>
          <Badge value={e.status} />
          {e.disabled_reason && <span class="disabled-reason"> {e.disabled_reason}</span>}
        </dd>
        <dt>Failing</dt>
        <dd>
          {e.failing_since ? (
            <>
              since <Time iso={e.failing_since} />: {e.failures_since_success} failed attempts since the last success
            </>
          ) : (
            none('no')
          )}
        </dd>
        {!portal && (
          <>
            <dt>Consumer</dt>
            <dd>{e.consumer_id ?? none('none (messages sent to no consumer)')}</dd>
          </>
        )}
        <dt>Description</dt>
        <dd>{e.description ?? none('—')}</dd>
        <dt>Event types</dt>
        <dd>
          <TypeList types={e.event_types} />
        </dd>
        <dt>Channels</dt>
        <dd>{e.channels?.length ? <TypeList types={e.channels} /> : none('all messages')}</dd>
        <dt>Headers</dt>
        <dd>{headers.length ? headers.map((h) => <code key={h}>{h}: [redacted] </code>) : none('none')}</dd>
        <dt>Rate limit</dt>
        <dd>{e.rate_limit_rps ? `${e.rate_limit_rps} per second` : none('none')}</dd>
        <dt>Timeout</dt>
        <dd>{e.timeout_ms ? millis(e.timeout_ms) : none("the server's (15 s)")}</dd>
        <dt>Retry schedule</dt>
        <dd>{e.retry_schedule ? (e.retry_schedule.length ? e.retry_schedule.map((s) => `${s} s`).join(', ') : 'no retries') : none("the project's")}</dd>
        <dt>Client errors (4xx)</dt>
        <dd>{e.retry_client_errors ? 'retried' : 'fail the delivery'}</dd>
        <dt>Signature scheme</dt>
        <dd>{e.signature_scheme}</dd>
        <dt>Ordering</dt>
        <dd>{e.ordering === 'fifo' ? 'fifo (one at a time, in order)' : 'none (in parallel)'}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={e.created_at} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={e.updated_at} />
        </dd>
      </dl>
    </section>
  );
}
