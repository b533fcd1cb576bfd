/**
 * The request a delivery sent, as its latest attempt recorded it (the API keeps each attempt's
 * request headers, with the endpoint's custom header values redacted).
 */
import type { Attempt } from '../types';
import { headerLines } from '../ui';

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
  // The URL is the endpoint's now (it may have changed since): shown once it is known.
  const lines = headerLines(lastAttempt.request_headers);
  const text = url ? `POST ${url}\n${lines}` : lines;
  return (
    <>
      <p class="hint">As sent in attempt {lastAttempt.attempt_number}; the endpoint's custom header values are shown as [redacted].</p>
      <pre class="headers" aria-label="Request headers" tabIndex={0}>
        <code>{text}</code>
      </pre>
    </>
  );
}
