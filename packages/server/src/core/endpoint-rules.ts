/** Pure rules about endpoints: which messages they match, and which custom headers they may set. */

export interface FilterTarget {
  eventTypes: string[] | null;
  channels: string[] | null;
}

/**
 * No event_types = every type; no channels = every channel. An endpoint that lists channels
 * receives only messages that carry at least one of them.
 */
export function endpointMatches(endpoint: FilterTarget, eventType: string, channels: string[] | null): boolean {
  if (endpoint.eventTypes && endpoint.eventTypes.length > 0 && !endpoint.eventTypes.includes(eventType)) return false;
  if (endpoint.channels && endpoint.channels.length > 0) {
    if (!channels || !channels.some((c) => endpoint.channels!.includes(c))) return false;
  }
  return true;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const RESERVED_PREFIXES = ['content-', 'webhook-', 'x-webhook-', 'x-hookbridge-'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What reads of an endpoint show instead of a custom header's value. */
const REDACTED = '[redacted]';

/** Problems with an endpoint's custom headers, one line each; empty when they are fine. */
export function customHeaderProblems(headers: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) problems.push(`header name "${name}" is not a valid HTTP token`);
    else if (HOP_BY_HOP.has(lower) || lower === 'user-agent') problems.push(`header "${name}" is set by Hookbridge and cannot be overridden`);
    else if (RESERVED_PREFIXES.some((p) => lower.startsWith(p))) problems.push(`header "${name}" uses a reserved prefix`);
    // Visible ASCII, spaces and tabs only: anything else either breaks the request line or is
    // refused by the HTTP client at send time, which would fail every attempt.
    if (typeof value !== 'string' || !/^[\t\x20-\x7e]*$/.test(value)) problems.push(`header "${name}" has an invalid value (visible ASCII only)`);
    // What a read of the endpoint shows instead of the value: sent back, it would replace the real one.
    else if (value === REDACTED) problems.push(`header "${name}" is "${REDACTED}", the placeholder reads show: send its real value`);
  }
  return problems;
}

/** Custom header values are shown redacted: they often carry credentials for the receiver. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED]));
}
