/**
 * The request a delivery sends. Hookbridge does not record the requests it sends, so this is
 * derived: the headers the worker builds (delivery/worker.ts, docs/api.md "The delivered request")
 * filled in from the delivery, its endpoint and its latest attempt.
 */
import type { Attempt, Delivery } from '../types';
import type { Source, Target } from './delivery-detail';

type Row = [name: string, value: string];

function headersOf(d: Delivery, target: Target | null | undefined, source: Source | null | undefined, last: Attempt | undefined): { url: string | null; rows: Row[] } {
  const ts = last ? String(Math.floor(Date.parse(last.started_at) / 1000)) : '<unix time of the attempt>';
  const tracking: Row[] = [
    ['x-hookbridge-delivery-id', d.id],
    ['x-hookbridge-attempt', String(last ? last.attempt_number : d.attempt_count + 1)],
    ['x-hookbridge-request-id', last?.request_id ?? '<new for every attempt>'],
  ];
  if (d.endpoint_id.startsWith('in_')) {
    const received = source?.kind === 'inbound' ? Object.entries(source.event.headers) : [];
    return {
      url: target?.kind === 'inbound' ? target.endpoint.destination_url : null,
      rows: [
        ...received,
        ['webhook-id', d.message_id],
        ['webhook-timestamp', ts],
        ['webhook-signature', 'v1,<base64 HMAC-SHA256 of "id.timestamp.body", with the inbound endpoint’s signing secret>'],
        ['x-hookbridge-inbound-endpoint-id', d.endpoint_id],
        ...tracking,
      ],
    };
  }
  const ep = target?.kind === 'endpoint' ? target.endpoint : undefined;
  const signature: Row[] =
    ep?.signature_scheme === 'hookbridge'
      ? [
          ['x-webhook-id', d.message_id],
          ['x-webhook-timestamp', ts],
          ['x-webhook-signature', 'sha256=<hex HMAC-SHA256 of "timestamp.body", with the endpoint’s secret>'],
        ]
      : [
          ['webhook-id', d.message_id],
          ['webhook-timestamp', ts],
          ['webhook-signature', 'v1,<base64 HMAC-SHA256 of "id.timestamp.body", with the endpoint’s secret>'],
        ];
  return {
    url: ep?.url ?? null,
    rows: [
      ...Object.entries(ep?.headers ?? {}),
      ['content-type', 'application/json'],
      ['user-agent', 'Hookbridge/<version>'],
      ...signature,
      ['x-hookbridge-event-type', d.event_type],
      ...tracking,
    ],
  };
}

export function RequestHeaders({ delivery, target, source, lastAttempt }: { delivery: Delivery; target: Target | null | undefined; source: Source | null | undefined; lastAttempt: Attempt | undefined }) {
  const { url, rows } = headersOf(delivery, target, source, lastAttempt);
  const inbound = delivery.endpoint_id.startsWith('in_');
  const text = [`POST ${url ?? '<endpoint URL>'}`, ...rows.map(([k, v]) => `${k}: ${v}`)].join('\n');
  return (
    <>
      <p class="hint">
        Derived, not recorded: Hookbridge does not store the requests it sends. These are the headers it sends for this delivery, with the values of{' '}
        {lastAttempt ? `attempt ${lastAttempt.attempt_number}` : 'the next attempt'}; the timestamp, attempt number and request id change with every
        attempt, and the signature is computed each time.{' '}
        {inbound
          ? 'Forwarding keeps the headers the event arrived with, minus hop-by-hop headers and the provider’s credentials.'
          : target === null
            ? 'The endpoint was deleted: its custom headers and signature scheme are unknown (standard shown).'
            : 'Custom header values of the endpoint read back redacted.'}
      </p>
      <pre class="headers" aria-label="Request headers" tabIndex={0}>
        <code>{text}</code>
      </pre>
    </>
  );
}
