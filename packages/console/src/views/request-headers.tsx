/**
 * The request a delivery sent, as its latest attempt recorded it (the API keeps each attempt's
 * request headers, with the endpoint's custom header values redacted).
 */
import type { Attempt } from '../types';

export function RequestHeaders({ url, lastAttempt }: { url: string | null | undefined; lastAttempt: Attempt | undefined }) {
  if (!lastAttempt) return <p class="muted">Not sent yet: the headers appear with the first attempt.</p>;
  if (!lastAttempt.request_headers) {
    return (
      <p class="muted">
        {lastAttempt.request_id === null
          ? 'This result was reported by `hookbridge listen`, which made the request itself.'
          : 'Not kept: retention removed them with the payload.'}
      </p>
    );
  }
  const text = [`POST ${url ?? '<endpoint URL>'}`, ...Object.entries(lastAttempt.request_headers).map(([k, v]) => `${k}: ${v}`)].join('\n');
  return (
    <>
      <p class="hint">As sent in attempt {lastAttempt.attempt_number}; the endpoint's custom header values are shown as [redacted].</p>
      <pre class="headers" aria-label="Request headers" tabIndex={0}>
        <code>{text}</code>
      </pre>
    </>
  );
}
