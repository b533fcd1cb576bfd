/** The attempts of one delivery, oldest first: what was answered, how fast, and what went wrong. */
import type { Attempt } from '../types';
import { Badge, headerLines, Time } from '../ui';
import './deliveries.css';

const OUTCOME_CLASS: Record<Attempt['outcome'], string> = { succeeded: 'ok', failed: 'bad', retry: 'warn' };

/** What error_class means, in words (docs/api.md, attempts). */
const ERROR_CLASS: Record<string, string> = {
  timeout: 'the endpoint did not answer in time',
  connect_error: 'the connection was refused or dropped',
  dns_error: 'the host name did not resolve',
  tls_error: 'the TLS handshake failed',
  url_not_allowed: 'the address is refused by the SSRF guard',
  network_error: 'a network error',
};

export function AttemptTimeline({ attempts }: { attempts: Attempt[] }) {
  return (
    <ol class="timeline" aria-label="Attempts">
      {attempts.map((a) => (
        <li key={a.id} class={OUTCOME_CLASS[a.outcome] ?? ''}>
          <div class="attempt-head">
            <span class="n">Attempt {a.attempt_number}</span>
            <Badge value={a.outcome} />
            <span class="code" title="HTTP status code">
              {a.status_code !== null ? `HTTP ${a.status_code}` : 'no response'}
            </span>
            <span class="latency" title="duration">
              {a.duration_ms} ms
            </span>
            <Time iso={a.started_at} />
          </div>
          {(a.error_class || a.error_message) && (
            <p class="attempt-error">
              {a.error_class && <code>{a.error_class}</code>} {a.error_message ?? (a.error_class ? ERROR_CLASS[a.error_class] : '')}
            </p>
          )}
          <Response attempt={a} />
          {a.request_id && (
            <p class="attempt-meta muted">
              x-hookbridge-request-id <code>{a.request_id}</code>
            </p>
          )}
          {a.request_headers && (
            <details class="attempt-headers">
              <summary>Headers sent</summary>
              <pre tabIndex={0}>
                <code>{headerLines(a.request_headers)}</code>
              </pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}

function Response({ attempt: a }: { attempt: Attempt }) {
  if (a.status_code === null) return null;
  if (a.response_body === null || a.response_body === '') return <p class="attempt-meta muted">Empty response body.</p>;
  return (
    <>
      <pre class="response" aria-label={`Response to attempt ${a.attempt_number}`} tabIndex={0}>
        <code>{a.response_body}</code>
      </pre>
      {a.response_truncated && <p class="attempt-meta muted">Truncated: the first 16 KiB of the response are kept.</p>}
    </>
  );
}
