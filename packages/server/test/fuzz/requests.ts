/**
 * Whole fuzz requests, built from the generators in arbitraries.ts: one per API route (clean or
 * fuzzed all over, with every URL in a body kept on loopback), POST /in/:id against the ingest
 * targets with valid, stale, wrong and missing signatures, and raw HTTP/1.x bytes with broken framing.
 */
import net from 'node:net';
import fc from 'fast-check';
import { ADMIN_KEY } from '../helpers.js';
import {
  anyText,
  bodyArb,
  CONTENT_TYPES_JSONISH,
  CONTENT_TYPES_OTHER,
  existingId,
  headerNameArb,
  headersArb,
  headerValue,
  ID_PREFIXES,
  idArb,
  oneIn,
  percentEncode,
  printable,
  queryArb,
  segmentArb,
  validArb,
  weighted,
  wholeBodyArb,
  type Route,
} from './arbitraries.js';
import { describeRequest, isObject, MAX_PAYLOAD, trunc, type FuzzRequest } from './oracle.js';
import { ctx, eventTypes, ingestTargets, seedEndpoints, type IngestTarget } from './state.js';

// --- the API routes -------------------------------------------------------------------------------

/**
 * HARD RULE: only loopback is ever dialled. An http(s) URL in an endpoint's url or an inbound
 * endpoint's destination_url is pointed at the receiver unless it already is (a name is fine: the
 * resolver answers 127.0.0.1; a literal must be loopback; the port must be the receiver's).
 */
function loopbackOnly(body: Buffer | undefined): Buffer | undefined {
  if (!body) return body;
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return body; // the server cannot parse it either
  }
  if (!isObject(v)) return body;
  let changed = false;
  for (const field of ['url', 'destination_url']) {
    const u = v[field];
    if (typeof u !== 'string') continue;
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    const h = parsed.hostname;
    const literal = net.isIP(h.replace(/^\[|\]$/g, '')) !== 0;
    const loopback = h === '[::1]' || (net.isIPv4(h) && h.startsWith('127.'));
    if ((literal && !loopback) || parsed.port !== String(ctx.receiver.port)) {
      parsed.hostname = '127.0.0.1';
      parsed.port = String(ctx.receiver.port);
      v[field] = parsed.toString();
      changed = true;
    }
  }
  return changed ? Buffer.from(JSON.stringify(v)) : body;
}

const OTHER_METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST', 'GET'];

/**
 * A request to this route. One in three is clean (admin key, JSON, existing ids, a body and query
 * the schema accepts), so that the routes' own logic runs deep; the others are fuzzed all over.
 */
export function requestArb(route: Route): fc.Arbitrary<FuzzRequest> {
  return weighted([1, requestOf(route, true)], [2, requestOf(route, false)]);
}

function requestOf(route: Route, clean: boolean): fc.Arbitrary<FuzzRequest> {
  const parts = route.path.split('/');
  const segments = parts.map((seg, i) => {
    if (!seg.startsWith(':')) return fc.constant(seg);
    const prefix = ID_PREFIXES[parts[i - 1]];
    if (seg === ':name') return clean ? fc.constantFrom(...eventTypes) : segmentArb(fc.oneof(fc.constantFrom(...eventTypes), anyText));
    return clean ? existingId(prefix) : segmentArb(idArb(prefix));
  });
  const methods = route.methods.filter((m) => m !== 'HEAD');
  const method = clean ? fc.constantFrom(...methods) : weighted<string>([14, fc.constantFrom(...methods)], [route.methods.includes('HEAD') ? 1 : 0, fc.constant('HEAD')], [1, fc.constantFrom(...OTHER_METHODS)]);
  const open = route.path === '/healthz' || route.path === '/readyz' || route.path === '/openapi.json';
  const headerParams = route.params.filter((p) => p.in === 'header');
  return fc
    .record({
      method,
      segments: fc.tuple(...segments),
      query: queryArb(route, clean),
      headers: clean ? fc.constant({ headers: ['authorization', `Bearer ${ADMIN_KEY}`, 'content-type', 'application/json'] as string[] }) : headersArb({ auth: !open, params: headerParams }),
      body: clean ? (route.body ? validArb(route.body).map((v) => Buffer.from(JSON.stringify(v))) : fc.constant(undefined)) : bodyArb(route.body),
    })
    .map(({ method, segments, query, headers, body }) => {
      // A body without a content type, or the reverse, is a case of its own; HEAD carries none.
      const sent = method === 'HEAD' ? undefined : /endpoints/.test(route.path) ? loopbackOnly(body) : body;
      return printable({ route: route.path, method, path: segments.join('/') + query, headers: headers.headers, body: sent }, describeRequest);
    });
}

// --- ingest ---------------------------------------------------------------------------------------

const SIGNATURE_HEADERS = ['stripe-signature', 'x-hub-signature-256', 'x-slack-signature', 'x-slack-request-timestamp', 'x-shopify-hmac-sha256', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'svix-id', 'svix-timestamp', 'svix-signature', 'x-signature', 'x-timestamp', 'authorization'];
const EVENT_ID_HEADERS = ['x-github-delivery', 'x-github-event', 'x-shopify-webhook-id', 'x-shopify-topic', 'x-event-id', 'x-request-id', 'x-forwarded-for'];

/** Bodies providers might send, and ones they would not: JSON whose id/type carry anything, forms, bytes, huge. */
const ingestBodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.record({ id: anyText, type: anyText, event_id: anyText, data: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.record({ type: fc.constant('url_verification'), challenge: anyText }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.record({ type: anyText, event: fc.oneof(fc.record({ type: anyText }), fc.jsonValue({ maxDepth: 1 })) }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.webQueryParameters().map((q) => Buffer.from(q)),
  wholeBodyArb,
  fc.constantFrom(MAX_PAYLOAD, MAX_PAYLOAD + 1, 2 * MAX_PAYLOAD).map((n) => Buffer.alloc(n, 0x61)),
);

export function ingestArb(): fc.Arbitrary<{ request: FuzzRequest; target: IngestTarget | null; signed: 'valid' | 'stale' | 'wrong' | 'garbage' | 'none'; size: number }> {
  return fc
    .record({
      target: weighted<IngestTarget | null>([10, fc.constantFrom(...ingestTargets)], [1, fc.constant(null)]),
      // Ids that exist nowhere (existing ones are the targets).
      randomId: fc.oneof(fc.stringMatching(/^in_[0-9a-z]{20}$/), anyText, fc.integer({ min: 100, max: 12_000 }).map((n) => `in_${'x'.repeat(n)}`)),
      body: ingestBodyArb,
      contentType: fc.option(fc.oneof(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', ...CONTENT_TYPES_JSONISH, ...CONTENT_TYPES_OTHER), headerValue), { freq: 5 }),
      signed: fc.constantFrom('valid', 'valid', 'valid', 'stale', 'wrong', 'garbage', 'none'),
      garbage: fc.array(fc.tuple(fc.constantFrom(...SIGNATURE_HEADERS), headerValue), { minLength: 1, maxLength: 3 }),
      extra: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...EVENT_ID_HEADERS), headerNameArb), headerValue), { maxLength: 3 }),
      query: oneIn(3, fc.webQueryParameters()),
      segment: segmentArb(fc.constant('')),
    })
    .map(({ target, randomId, body, contentType, signed, garbage, extra, query, segment }) => {
      const now = Math.floor(Date.now() / 1000);
      const sig =
        target && (signed === 'valid' || signed === 'stale' || signed === 'wrong')
          ? target.sign(body, signed === 'stale' ? now - 3600 : now, signed !== 'wrong')
          : { headers: signed === 'garbage' ? garbage.flat() : [], query: '' };
      const headers = [...sig.headers];
      if (contentType !== null) headers.push('content-type', contentType);
      // Extra headers must not override a signature: only names the signature does not use.
      for (const [k, v] of extra) if (!SIGNATURE_HEADERS.includes(k) || signed === 'garbage' || signed === 'none') headers.push(k, v);
      const q = [sig.query, query ?? ''].filter(Boolean).join('&');
      const id = target ? target.id : randomId;
      const request = { route: '/in/:id', method: 'POST', path: `/in/${percentEncode(id)}${target ? '' : segment}${q ? `?${q}` : ''}`, headers, body };
      return printable({ request, target, signed, size: body.length }, (c) => `${c.target?.kind ?? 'unknown id'}, ${c.signed}: ${describeRequest(c.request)}`);
    });
}

// --- raw HTTP -------------------------------------------------------------------------------------

interface RawCase {
  bytes: Buffer;
  /** The framing promises more body than is sent: the server may wait, then see the client leave. */
  incomplete: boolean;
  method: string;
  ingest: boolean;
  text: string;
}

export function rawArb(routes: Route[]): fc.Arbitrary<RawCase> {
  const target = fc.oneof(
    fc.constantFrom(...routes.map((r) => r.path.replace(/:(\w+)/g, () => [...seedEndpoints][0]))),
    fc.constantFrom(...ingestTargets.map((t) => `/in/${t.id}`)),
    fc.constantFrom('*', `http://127.0.0.1:${'0'}/healthz`, '/v1/endpoints?x=%', '/%', '/v1/../healthz', '//v1//endpoints', `/v1/endpoints/${'x'.repeat(20_000)}`, '/in/', 'healthz', '/\u00ff', '/%00'),
  );
  const body = fc.oneof(fc.constant(Buffer.from(JSON.stringify({ url: 'not a url' }))), fc.constant(Buffer.from('{"event_type":"a.b","payload":{}}')), wholeBodyArb);
  const framing = fc.constantFrom('exact', 'exact', 'missing', 'abc', '-1', '+5', '5, 5', '0x10', ' 7 ', 'longer', 'shorter', 'double', 'chunked', 'chunked-bad', 'chunked-unterminated', 'te-and-cl', 'te-gzip', 'te-obfuscated');
  const oddLine = fc.option(
    fc.constantFrom('X-Folded: a\r\n  continued', 'Bad Header: x', 'X-Nul: a\u0000b', 'X-Ctl: a\u0007b', 'X-Latin: caf\u00e9', ': empty-name', 'X-Colonless', 'X-Bare-Lf: a\nX-Other: b', 'Host: second.example', `X-Long: ${'y'.repeat(20_000)}`, 'Expect: 100-continue', 'Expect: bogus', 'Upgrade: h2c', 'Connection: keep-alive, Upgrade', 'Connection: Upgrade\r\nUpgrade: h2c', 'Connection: Upgrade\r\nUpgrade: websocket', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x'),
    { freq: 2 },
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'get', 'P0ST', 'BREW', 'OPTIONS'),
      target,
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'HTTP/x', 'HTTP/1.10'),
      host: fc.constantFrom('present', 'present', 'present', 'missing', 'empty', 'garbage'),
      contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', null),
      auth: fc.boolean(),
      framing,
      oddLine,
      body,
    })
    .map(({ method, target, version, host, contentType, auth, framing, oddLine, body }) => {
      const lines = [`${method} ${target} ${version}`];
      if (host === 'present') lines.push(`Host: ${new URL(ctx.server.url).host}`);
      if (host === 'empty') lines.push('Host:');
      if (host === 'garbage') lines.push('Host: a b/c@d');
      if (contentType) lines.push(`Content-Type: ${contentType}`);
      if (auth) lines.push(`Authorization: Bearer ${ADMIN_KEY}`);
      if (oddLine) lines.push(oddLine);
      let payload = body;
      let incomplete = false;
      const n = body.length;
      const chunked = (b: Buffer, end: string) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from(`\r\n${end}`)]);
      switch (framing) {
        case 'exact':
          lines.push(`Content-Length: ${n}`);
          break;
        case 'missing':
          break;
        case 'longer':
          lines.push(`Content-Length: ${n + 10}`);
          incomplete = true;
          break;
        case 'shorter':
          lines.push(`Content-Length: ${Math.max(0, n - 3)}`);
          break;
        case 'double':
          lines.push(`Content-Length: ${n}`, `Content-Length: ${n + 1}`);
          break;
        case 'chunked':
          lines.push('Transfer-Encoding: chunked');
          payload = chunked(body, '0\r\n\r\n');
          break;
        case 'chunked-bad':
          lines.push('Transfer-Encoding: chunked');
          payload = Buffer.concat([Buffer.from('zz\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
          break;
        case 'chunked-unterminated':
          lines.push('Transfer-Encoding: chunked');
          payload = chunked(body, '');
          incomplete = true;
          break;
        case 'te-and-cl':
          lines.push('Transfer-Encoding: chunked', `Content-Length: ${n}`);
          payload = chunked(body, '0\r\n\r\n');
          break;
        case 'te-gzip':
          lines.push('Transfer-Encoding: gzip');
          break;
        case 'te-obfuscated':
          lines.push('Transfer-Encoding: xchunked', `Content-Length: ${n}`);
          break;
        default:
          lines.push(`Content-Length: ${framing}`);
          incomplete = Number(framing) > n;
      }
      lines.push('Connection: close');
      const head = `${lines.join('\r\n')}\r\n\r\n`;
      const text = trunc(JSON.stringify(head + payload.toString('latin1')), 800);
      return printable({ bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]), incomplete, method, ingest: target.startsWith('/in/'), text }, (c) => c.text);
    });
}
