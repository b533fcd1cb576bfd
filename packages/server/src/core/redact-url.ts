/**
 * URLs as they may appear in logs (DESIGN.md §7): query parameters that carry credentials (a
 * `token=` an inbound endpoint checks, an `api_key=`, a presigned URL's `signature=`) and the
 * password of a `user:password@` part are masked; everything else stays as it was, so the line
 * still tells which request it was.
 */
const CREDENTIAL_NAME = /token|key|secret|signature|sig|password|passwd|credential|auth/i;

export const REDACTED = '[redacted]';

/**
 * Ingest URLs (`/in/<id>`): an inbound endpoint's token may ride in a query parameter of any name
 * it configures (`?code=`), so there every query value is masked.
 */
const INGEST_PATH = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/?#]*)?\/in\//i;

export function redactUrl(url: string): string {
  const everyValue = INGEST_PATH.test(url);
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`}@`;
  });
  const q = out.indexOf('?');
  if (q < 0) return out;
  const hash = out.indexOf('#', q);
  const query = out.slice(q + 1, hash < 0 ? undefined : hash);
  const masked = query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      return eq >= 0 && (everyValue || CREDENTIAL_NAME.test(decodeName(rawName))) ? `${rawName}=${REDACTED}` : part;
    })
    .join('&');
  out = out.slice(0, q + 1) + masked + (hash < 0 ? '' : out.slice(hash));
  return out;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
