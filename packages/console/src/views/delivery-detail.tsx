/**
 * One delivery: where it stands, its payload, the request Hookbridge sends, and every attempt.
 * Refreshes every 2 s until the delivery reaches a final status.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, type Page } from '../api';
import { href } from '../router';
import { canWrite, useSession } from '../session-context';
import type { Attempt, Delivery, Endpoint, InboundEndpoint, InboundEvent, Message } from '../types';
import { Badge, ErrorNote, JsonBlock, Loading, PageHeader, Time, useAction, useLoad } from '../ui';
import { AttemptTimeline } from './attempt-timeline';
import { EndpointLink } from './deliveries';
import { RequestHeaders } from './request-headers';
import './deliveries.css';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const enc = encodeURIComponent;

/** What the delivery sends: an outbound message, or (forwarding) an inbound event. */
export type Source = { kind: 'message'; message: Message } | { kind: 'inbound'; event: InboundEvent };
export type Target = { kind: 'endpoint'; endpoint: Endpoint } | { kind: 'inbound'; endpoint: InboundEndpoint };

const isInbound = (d: Delivery) => d.endpoint_id.startsWith('in_') || d.message_id.startsWith('ie_');

async function allAttempts(id: string): Promise<Attempt[]> {
  const out: Attempt[] = [];
  let cursor: string | null = null;
  // Replays keep numbering attempts; a few pages of 250 cover any real history.
  for (let i = 0; i < 8; i++) {
    const page: Page<Attempt> = await api.get<Page<Attempt>>(`/deliveries/${enc(id)}/attempts`, { limit: 250, cursor });
    out.push(...page.data);
    if (!page.has_more || !page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

/** A missing related record (a deleted endpoint) is shown as absent, not as a failed page. */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 404) return null;
    throw e;
  }
}

export function DeliveryDetailView({ params }: { params: Record<string, string>; query: URLSearchParams }) {
  const id = params.id;
  const session = useSession();
  const [poll, setPoll] = useState(false);
  const delivery = useLoad(() => api.get<Delivery>(`/deliveries/${enc(id)}`), [id], poll ? 2000 : undefined);
  // The hook keeps the last data while loading another id: do not show the previous delivery.
  const current = delivery.data?.id === id ? delivery.data : undefined;
  const moving = current !== undefined && !FINAL.has(current.status);
  useEffect(() => setPoll(moving), [moving]);

  const attempts = useLoad(() => allAttempts(id), [id, current?.attempt_count, current?.status, current?.updated_at]);
  const source = useLoad<Source | null | undefined>(
    () =>
      !current
        ? Promise.resolve(undefined)
        : isInbound(current)
          ? orNull(api.get<InboundEvent>(`/inbound-events/${enc(current.message_id)}`)).then((event) => event && { kind: 'inbound' as const, event })
          : orNull(api.get<Message>(`/messages/${enc(current.message_id)}`)).then((message) => message && { kind: 'message' as const, message }),
    [current?.message_id],
  );
  const target = useLoad<Target | null | undefined>(
    () =>
      !current
        ? Promise.resolve(undefined)
        : current.endpoint_id.startsWith('in_')
          ? orNull(api.get<InboundEndpoint>(`/inbound-endpoints/${enc(current.endpoint_id)}`)).then((endpoint) => endpoint && { kind: 'inbound' as const, endpoint })
          : orNull(api.get<Endpoint>(`/endpoints/${enc(current.endpoint_id)}`)).then((endpoint) => endpoint && { kind: 'endpoint' as const, endpoint }),
    [current?.endpoint_id],
  );

  const act = useAction(async (action: 'retry' | 'cancel' | 'replay') => {
    await api.post<Delivery>(`/deliveries/${enc(id)}/${action}`);
    delivery.reload();
  });

  if (!current) {
    return (
      <section>
        <PageHeader title={`Delivery ${id}`} />
        {delivery.error ? <ErrorNote error={delivery.error} /> : <Loading />}
        <p>
          <a href={href('/deliveries')}>All deliveries</a>
        </p>
      </section>
    );
  }
  const s = current.status;
  const write = canWrite(session);
  return (
    <section class="delivery-detail">
      <p class="muted">
        <a href={href('/deliveries')}>Deliveries</a> /
      </p>
      <PageHeader title={`Delivery ${current.id}`}>
        {write && s === 'pending_retry' && (
          <button type="button" disabled={act.busy} onClick={() => void act.run('retry')}>
            Retry now
          </button>
        )}
        {write && (s === 'queued' || s === 'pending_retry' || s === 'paused') && (
          <button type="button" class="secondary" disabled={act.busy} onClick={() => void act.run('cancel')}>
            Cancel
          </button>
        )}
        {write && FINAL.has(s) && (
          <button type="button" disabled={act.busy} onClick={() => void act.run('replay')}>
            Replay
          </button>
        )}
      </PageHeader>
      <ErrorNote error={act.error} />
      <ErrorNote error={delivery.error} />
      <Facts d={current} target={target.data} />

      <section aria-labelledby="payload-h">
        <h2 id="payload-h">Payload</h2>
        <Payload source={source.data} loading={source.loading} error={source.error} />
      </section>

      <section aria-labelledby="headers-h">
        <h2 id="headers-h">Request headers</h2>
        <RequestHeaders
          url={target.data ? (target.data.kind === 'endpoint' ? target.data.endpoint.url : target.data.endpoint.destination_url) : undefined}
          lastAttempt={attempts.data?.[attempts.data.length - 1]}
        />
      </section>

      <section aria-labelledby="attempts-h">
        <h2 id="attempts-h">Attempts</h2>
        <ErrorNote error={attempts.error} />
        {attempts.data === undefined ? (
          <Loading />
        ) : attempts.data.length === 0 ? (
          <p class="muted">{moving ? 'No attempt yet: the first one is on its way.' : 'No attempt was made.'}</p>
        ) : (
          <AttemptTimeline attempts={attempts.data} />
        )}
        {moving && <p class="hint">Refreshing every 2 s until the delivery succeeds, fails or is cancelled.</p>}
      </section>
    </section>
  );
}

function Facts({ d, target }: { d: Delivery; target: Target | null | undefined }) {
  const endpointName = target ? (target.kind === 'endpoint' ? target.endpoint.url : `inbound: ${target.endpoint.name}`) : undefined;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <Badge value={d.status} />
      </dd>
      <dt>Event type</dt>
      <dd>{d.event_type ? <code>{d.event_type}</code> : <span class="muted">—</span>}</dd>
      <dt>Endpoint</dt>
      <dd>
        <EndpointLink id={d.endpoint_id} name={endpointName} />
        {target === null && <span class="muted"> (deleted)</span>}
      </dd>
      <dt>Consumer</dt>
      <dd>{d.consumer_id ?? <span class="muted">—</span>}</dd>
      <dt>{isInbound(d) ? 'Inbound event' : 'Message'}</dt>
      <dd>
        <code>{d.message_id}</code>
      </dd>
      <dt>Attempts</dt>
      <dd>{d.attempt_count}</dd>
      <dt>Replays</dt>
      <dd>{d.replay_count}</dd>
      <dt>Next attempt</dt>
      <dd>
        <Time iso={d.next_attempt_at} />
      </dd>
      <dt>Last status code</dt>
      <dd>{d.last_status_code ?? <span class="muted">—</span>}</dd>
      <dt>Last error</dt>
      <dd>{d.last_error ?? <span class="muted">—</span>}</dd>
      <dt>Created</dt>
      <dd>
        <Time iso={d.created_at} />
      </dd>
      <dt>Updated</dt>
      <dd>
        <Time iso={d.updated_at} />
      </dd>
    </dl>
  );
}

function Payload({ source, loading, error }: { source: Source | null | undefined; loading: boolean; error: ApiFailure | undefined }) {
  if (error) return <ErrorNote error={error} />;
  if (source === undefined) return loading ? <Loading /> : null;
  if (source === null) return <p class="muted">The message of this delivery is no longer stored.</p>;
  if (source.kind === 'message') {
    const m = source.message;
    if (m.payload_removed_at)
      return (
        <p class="muted">
          The payload was removed <Time iso={m.payload_removed_at} /> (payload retention, or the message was deleted). The delivery and its attempts
          stay listed; replaying it answers 410 payload_expired.
        </p>
      );
    return (
      <>
        <JsonBlock value={m.payload} label="Payload" />
        <p class="hint">
          Sent as compact JSON (<code>JSON.stringify(payload)</code>). Message created <Time iso={m.created_at} />
          {m.request_id ? (
            <>
              {' '}
              by request <code>{m.request_id}</code>
            </>
          ) : null}
          {m.idempotency_key ? (
            <>
              , idempotency key <code>{m.idempotency_key}</code>
            </>
          ) : null}
          .
        </p>
      </>
    );
  }
  const e = source.event;
  if (e.payload_removed_at || e.body === null)
    return (
      <p class="muted">
        The body was removed <Time iso={e.payload_removed_at} /> by payload retention.
      </p>
    );
  if (e.body_encoding === 'base64')
    return (
      <>
        <p class="hint">The body is not UTF-8 text; shown as base64.</p>
        <pre class="json" aria-label="Payload" tabIndex={0}>
          <code>{e.body}</code>
        </pre>
      </>
    );
  return (
    <>
      <JsonBlock value={e.body} label="Payload" />
      <p class="hint">The original bytes of the inbound event, forwarded unchanged.</p>
    </>
  );
}
