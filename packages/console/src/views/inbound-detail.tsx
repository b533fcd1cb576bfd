/**
 * One inbound endpoint: its ingest URL, what arrived (events, with their forwarding), what was
 * refused (rejections), and for pull/cli endpoints the events waiting to be acknowledged.
 * Everything refreshes every 5 s.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { href, navigate } from '../router';
import type { InboundEndpoint } from '../types';
import { Badge, Confirm, CopyButton, ErrorNote, Loading, PageHeader, SecretOnce, Time, useAction, useLoad } from '../ui';
import { InboundEvents, PendingEvents, POLL_MS, Rejections } from './inbound-events';
import { takeCreatedSecret } from './inbound-form';
import { providerOf } from './inbound';
import './inbound.css';

const enc = encodeURIComponent;

export function InboundDetailView({ params }: { params: Record<string, string>; query: URLSearchParams }) {
  const id = params.id;
  const [secret] = useState(() => takeCreatedSecret(id));
  const [confirmDelete, setConfirmDelete] = useState(false);
  const loaded = useLoad(() => api.get<InboundEndpoint>(`/inbound-endpoints/${enc(id)}`), [id], POLL_MS);
  const ep = loaded.data?.id === id ? loaded.data : undefined;

  const act = useAction(async (action: 'pause' | 'resume') => {
    await api.post<InboundEndpoint>(`/inbound-endpoints/${enc(id)}/${action}`);
    loaded.reload();
  });
  const remove = useAction(async () => {
    await api.del(`/inbound-endpoints/${enc(id)}`);
    setConfirmDelete(false);
    navigate('/inbound');
  });

  if (!ep) {
    return (
      <section>
        <PageHeader title="Inbound endpoint" />
        {loaded.error ? <ErrorNote error={loaded.error} /> : <Loading />}
        <p>
          <a href={href('/inbound')}>All inbound endpoints</a>
        </p>
      </section>
    );
  }
  const holding = ep.mode !== 'forward';
  return (
    <section class="inbound-detail">
      <p class="muted">
        <a href={href('/inbound')}>Inbound</a> /
      </p>
      <PageHeader title={ep.name}>
        {ep.status === 'active' ? (
          <button type="button" class="secondary" disabled={act.busy} onClick={() => void act.run('pause')}>
            Pause
          </button>
        ) : (
          <button type="button" disabled={act.busy} onClick={() => void act.run('resume')}>
            Resume
          </button>
        )}
        <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </PageHeader>
      <ErrorNote error={act.error} />
      <ErrorNote error={loaded.error} />
      {secret && (
        <>
          <SecretOnce label="Signing secret" value={secret} />
          <p class="hint">
            {ep.mode === 'forward'
              ? 'Hookbridge re-signs every forwarded event with this Standard Webhooks secret (webhook-* headers): verify it in your service, whatever the provider.'
              : 'The Standard Webhooks secret of this endpoint (used when events are forwarded).'}
          </p>
        </>
      )}

      <section aria-labelledby="ingest-h">
        <h2 id="ingest-h">Ingest URL</h2>
        <div class="ingest-box">
          <code data-testid="ingest-url">{ep.ingest_url}</code>
          <CopyButton text={ep.ingest_url} label="Copy ingest URL" />
        </div>
        <p class="hint">
          Paste it into {providerOf(ep) === 'none' ? 'the sender’s' : `${providerOf(ep)}’s`} webhook settings.
          {ep.status === 'paused' ? ' While paused it answers 503 endpoint_paused, so providers retry later.' : ''}
        </p>
      </section>

      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <Badge value={ep.status} />
        </dd>
        <dt>Provider</dt>
        <dd>
          <code>{providerOf(ep)}</code>
        </dd>
        <dt>Mode</dt>
        <dd>{ep.mode}</dd>
        {ep.mode === 'forward' && (
          <>
            <dt>Destination URL</dt>
            <dd class="url">{ep.destination_url}</dd>
          </>
        )}
        <dt>Verification</dt>
        <dd>
          <code>{JSON.stringify(ep.verification)}</code>
        </dd>
        <dt>Allowed CIDRs</dt>
        <dd>{ep.allowed_cidrs?.length ? ep.allowed_cidrs.join(', ') : <span class="muted">any source</span>}</dd>
        <dt>Answers ingest with</dt>
        <dd>{ep.ingest_response_code}</dd>
        <dt>Id</dt>
        <dd>
          <code>{ep.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={ep.created_at} />
        </dd>
      </dl>

      {holding && <PendingEvents endpoint={ep} />}
      <InboundEvents endpoint={ep} />
      <Rejections endpoint={ep} />
      {!holding && (
        <p class="hint">
          Forwarding deliveries are also listed under <a href={href('/deliveries', { endpoint_id: ep.id })}>Deliveries</a>.
        </p>
      )}

      <Confirm open={confirmDelete} title={`Delete ${ep.name}?`} confirmLabel="Delete inbound endpoint" danger busy={remove.busy} onConfirm={() => void remove.run()} onClose={() => setConfirmDelete(false)}>
        <p>Its ingest URL stops accepting webhooks (404). Providers still sending to it will see failures.</p>
        <ErrorNote error={remove.error} />
      </Confirm>
    </section>
  );
}
