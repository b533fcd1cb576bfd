/**
 * The fuzzer's fast-check generators for the parts of a request: text and header values, huge and
 * deep values (as markers expanded after JSON.stringify), mutations of a valid body and of its JSON
 * text, values derived from an OpenAPI schema, ids (existing ones from the pool, unknown, garbage),
 * URLs, headers and query strings. requests.ts assembles them into whole requests.
 */
import fc from 'fast-check';
import { ADMIN_KEY } from '../helpers.js';
import { isObject, MAX_PAYLOAD } from './oracle.js';
import { ctx, eventTypes, pool } from './state.js';

// --- generic arbitraries ------------------------------------------------------------------------

export const weighted = <T,>(...pairs: Array<[number, fc.Arbitrary<T>]>) => fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));
/** A value one time in `n`, else null. */
export const oneIn = <T,>(n: number, arb: fc.Arbitrary<T>) => weighted<T | null>([1, arb], [n - 1, fc.constant(null)]);

/** fast-check prints counterexamples with this (not megabytes of Buffer). */
export function printable<T extends object>(o: T, show: (o: T) => string): T {
  return Object.defineProperty(o, fc.toStringMethod, { value: () => show(o), enumerable: false });
}

/** Bytes Node and undici accept in a header value: visible ASCII, space, tab and Latin-1. */
const headerChar = fc.integer({ min: 0x1f, max: 0xff }).map((c) => (c === 0x1f ? '\t' : c === 0x7f ? ' ' : String.fromCharCode(c)));
export const headerValue = fc.string({ unit: headerChar, maxLength: 60 });
const VISIBLE_ASCII = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i));
/** Framing headers undici will not send as given (the raw property sends those). */
const FRAMING_HEADERS = ['host', 'connection', 'keep-alive', 'upgrade', 'expect', 'transfer-encoding', 'content-length', 'te', 'trailer', 'proxy-connection'];
const tokenArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,24}$/).filter((n) => !FRAMING_HEADERS.includes(n));
const CURIOUS = ['', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '😀', 'e\u0301', '\u202e', '\ufeff', "'; DROP TABLE endpoints; --", '%00', '../..', 'null', 'true', '0', '-1', '1e400', 'NaN', '__proto__'];
export const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom(...CURIOUS));

/**
 * Huge and deep values travel through JSON.stringify as marker strings and are expanded in the
 * text afterwards, so that fast-check never builds (or shrinks) megabytes.
 */
const HUGE_CHARS = ['a', 'é', '😀', '\u0000', '\ud800', '"'];
const HUGE_SIZES = [4096, 64 * 1024 + 1, MAX_PAYLOAD - 100, MAX_PAYLOAD + 1, MAX_PAYLOAD + 64 * 1024 + 1, 3 * MAX_PAYLOAD];
const DEPTHS = [64, 510, 511, 512, 513, 2000, 100_000];
const hugeString = fc.tuple(fc.constantFrom(...HUGE_SIZES), fc.nat(HUGE_CHARS.length - 1)).map(([n, c]) => `\u0001HUGE:${n}:${c}\u0001`);
const deepValue = fc.tuple(fc.constantFrom(...DEPTHS), fc.nat(1)).map(([n, shape]) => `\u0001DEEP:${n}:${shape}\u0001`);

function expandMarkers(text: string): string {
  return text.replace(/"\\u0001(HUGE|DEEP):(\d+):(\d+)\\u0001"/g, (_m, kind: string, n: string, i: string) => {
    const size = Number(n);
    if (kind === 'HUGE') return JSON.stringify(HUGE_CHARS[Number(i)].repeat(size));
    return i === '0' ? '['.repeat(size) + ']'.repeat(size) : '{"a":'.repeat(size) + '1' + '}'.repeat(size);
  });
}

/** Values of the wrong shape, size or range for whatever field they land in. */
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  anyText,
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, -1, 0, 0.5, -0.000001, 1e-300, 2 ** 31, 2 ** 63, 86400 * 365 * 1000, true, false, null, [], {}, [null], ['']),
  hugeString,
  deepValue,
  fc.integer({ min: 100, max: 3000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  fc.integer({ min: 257, max: 5000 }).map((n) => Array.from({ length: n }, (_, i) => `v${i}`)),
);

// --- values inside JSON bodies --------------------------------------------------------------------

type Json = unknown;
type Path = Array<string | number>;

function pathsOf(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (isObject(v)) for (const k of Object.keys(v)) pathsOf(v[k], [...at, k], out);
  return out;
}

function valueAt(root: Json, p: Path): Json {
  let cur = root;
  for (const k of p) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

const parentOf = (root: Json, p: Path) => valueAt(root, p.slice(0, -1)) as Record<string | number, unknown>;

/** Sets a key as an own, enumerable property: "__proto__" included. */
function setOwn(o: Record<string | number, unknown>, k: string | number, v: unknown) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

type Mutation = (v: Json) => Json;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Drop a field or an element (a required one as often as not).
  fc.nat().map((i): Mutation => (v) => {
    const paths = pathsOf(v).slice(1);
    if (paths.length === 0) return v;
    const p = paths[i % paths.length];
    const parent = parentOf(v, p);
    if (Array.isArray(parent)) parent.splice(p[p.length - 1] as number, 1);
    else delete parent[p[p.length - 1]];
    return v;
  }),
  // Replace any value (the root too) with one of the wrong type, size or range.
  fc.tuple(fc.nat(), weirdValue).map(([i, w]): Mutation => (v) => {
    const paths = pathsOf(v);
    const p = paths[i % paths.length];
    if (p.length === 0) return w;
    setOwn(parentOf(v, p), p[p.length - 1], w);
    return v;
  }),
  // An unknown field, somewhere.
  fc.tuple(fc.nat(), fc.oneof(tokenArb, anyText, fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'status', 'project_id', 'signing_secret', 'admin')), weirdValue).map(
    ([i, k, w]): Mutation =>
      (v) => {
        const objects = pathsOf(v).filter((p) => isObject(valueAt(v, p)));
        if (objects.length === 0) return v;
        setOwn(valueAt(v, objects[i % objects.length]) as Record<string, unknown>, k, w);
        return v;
      },
  ),
);

/** Edits of the JSON text itself: what no JSON.stringify produces. */
const textMutationArb: fc.Arbitrary<(t: string) => string> = fc.oneof(
  fc.nat().map((i) => (t: string) => t.slice(0, i % (t.length + 1))),
  fc.tuple(fc.nat(), anyText).map(([i, s]) => (t: string) => t.slice(0, i % (t.length + 1)) + s + t.slice(i % (t.length + 1))),
  fc.constantFrom(
    (t: string) => `\ufeff${t}`,
    (t: string) => ` \n\t${t}\r\n `,
    (t: string) => `${t}x`,
    (t: string) => `${t}{}`,
    (t: string) => t.replace(/\d+(\.\d+)?/, '1e400'),
    (t: string) => t.replace(/\d+/, '-0'),
    (t: string) => t.replace(/\d+/, '01'),
    (t: string) => t.replace(/\d+/, '0x10'),
    (t: string) => t.replace(/:\s*(\d+)/, ':NaN'),
    (t: string) => t.replace(/^\{/, '{"__proto__":{"admin":true},'),
    (t: string) => t.replace(/^\{/, '{"constructor":{"prototype":{"admin":true}},'),
    (t: string) => t.replace(/^\{"([^"]*)":/, '{"$1":"duplicate","$1":'),
    (t: string) => t.replace(/"/g, "'"),
    (t: string) => t.replace(/"([^"]*)"/, '"$1\\ud800"'),
    (t: string) => t.replace(/"([^"]*)"/, '"$1\\u0000"'),
    (t: string) => t.replace(/"([^"]*)"/, '"$1\\x41"'),
  ),
);

/** Bodies of no particular route: empty, scalar, broken, binary, deep, huge. */
export const wholeBodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom('', ' ', 'null', 'true', '0', '-1', '"x"', '[]', '{}', '[{}]', '{"a":1}}', '{', '}', 'nul', '\u0000', '{"\u0000":1}', '\ufeff{}', '{"a":1e400}', '[1,]', '{,}', '//{}', '{"__proto__":null}').map((t) => Buffer.from(t)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.string({ unit: 'binary', maxLength: 200 }).map((t) => Buffer.from(t)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.oneof(deepValue, hugeString).map((m) => Buffer.from(expandMarkers(JSON.stringify(m)))),
);

// --- from the OpenAPI document to arbitraries -------------------------------------------------------

export interface Schema {
  type?: string;
  enum?: unknown[];
  anyOf?: Schema[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  maxProperties?: number;
}

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

export interface Route {
  /** Fastify's form: /v1/endpoints/:id */
  path: string;
  methods: string[];
  params: Param[];
  body?: Schema;
}

/** An id that exists or existed (the pool grows during the run), of the kind `prefix` when there is one. */
export const existingId = (prefix = '') =>
  fc.nat().map((i) => {
    const ofKind = prefix ? pool.filter((id) => id.startsWith(prefix)) : pool;
    return (ofKind.length ? ofKind : pool)[i % (ofKind.length || pool.length)];
  });

/** The kind of id a path segment or a field holds: /v1/endpoints/:id → ep_. */
export const ID_PREFIXES: Record<string, string> = { projects: 'proj_', 'api-keys': 'key_', endpoints: 'ep_', messages: 'msg_', deliveries: 'dlv_', 'inbound-endpoints': 'in_', 'inbound-events': 'ie_', exports: 'exp_', endpoint_id: 'ep_', message_id: 'msg_', inbound_endpoint_id: 'in_' };

/** Ids that may or may not exist: existing ones (mostly of the kind expected), well-formed unknown ones, garbage, very long. */
export function idArb(prefix = ''): fc.Arbitrary<string> {
  return weighted<string>(
    [6, existingId(prefix)],
    [2, existingId()],
    [2, fc.tuple(fc.constantFrom('ep_', 'msg_', 'dlv_', 'att_', 'proj_', 'key_', 'in_', 'ie_', 'ir_', ''), fc.stringMatching(/^[0-9A-Za-z]{1,30}$/)).map(([a, b]) => a + b)],
    [1, anyText],
    [1, fc.integer({ min: 100, max: 12_000 }).map((n) => `ep_${'x'.repeat(n)}`)],
  );
}

/** The receiver, under names and spellings of loopback; and URLs the server must refuse. */
function urlArb(): fc.Arbitrary<string> {
  const port = ctx.receiver.port;
  const host = fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '127.1.2.3', 'fuzz.invalid', 'xn--bcher-kva.invalid', '2130706433', '0x7f.1', 'LOCALHOST.');
  return weighted<string>(
    [6, fc.tuple(fc.constantFrom('http', 'https', 'HTTP'), host, fc.webPath(), fc.option(fc.webQueryParameters())).map(([s, h, p, q]) => `${s}://${h}:${port}${p}${q ? `?${q}` : ''}`)],
    [2, fc.tuple(fc.constantFrom('ftp', 'file', 'javascript', 'ws', 'gopher', 'data'), host).map(([s, h]) => `${s}://${h}:${port}/x`)],
    [1, fc.constantFrom(`http://user:pw@127.0.0.1:${port}/`, `http://127.0.0.1:${port}\u0000/`, `http://127.0.0.1:99999/`, 'http://', '//127.0.0.1/', '/relative', `http://[::1:${port}/`, 'http://%zz/', `http://127.0.0.1:${port}/${'a'.repeat(2100)}`)],
    [1, anyText],
  );
}

/** Fields whose values are better drawn from what exists than from their schema. */
function fieldArb(name: string, s: Schema): fc.Arbitrary<unknown> | null {
  if (name === 'url' || name === 'destination_url') return urlArb();
  if (name === 'wait') return fc.constantFrom(0, 0.01, 0.05);
  if (name === 'consumer_id') return fc.constantFrom('cust_a', 'cust_b', 'cust_c');
  if ((name === 'ids' || /(^|_)id$/.test(name)) && s.type === 'string') return idArb(ID_PREFIXES[name]);
  if (name === 'cursor' || name === 'after') return fc.oneof(idArb(), anyText);
  if ((name === 'event_type' || name === 'name') && s.pattern) return fc.oneof(fc.constantFrom(...eventTypes), stringArb(s));
  return null;
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 64;
  if (s.format === 'date-time') return fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern), { size: 'xsmall' }).filter((x) => x.length >= min && x.length <= max);
  return fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, Math.min(max, 24)) }) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(max)) },
  );
}

/** Values the schema accepts (the fields that refer to other objects drawn from what exists). */
export function validArb(s: Schema, name = ''): fc.Arbitrary<unknown> {
  const a = fieldArb(name, s) ?? baseArb(s, name);
  return s.nullable ? fc.option(a, { nil: null, freq: 6 }) : a;
}

function baseArb(s: Schema, name: string): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => validArb(x, name)));
  switch (s.type) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const minLength = s.minItems ?? 0;
      return fc.array(validArb(s.items ?? {}, name), { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 4, 4)) });
    }
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const fixed = fc.record(Object.fromEntries(props.map(([k, p]) => [k, validArb(p, k)])), { requiredKeys: (s.required ?? []).filter((k) => s.properties?.[k]) });
      if (!isObject(s.additionalProperties)) return fixed;
      const key = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), anyText);
      const extra = fc.dictionary(key, validArb(s.additionalProperties), { maxKeys: Math.min(s.maxProperties ?? 4, 4) });
      return fc.tuple(fixed, extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** A body for a route with this schema: valid, mutated, or something else entirely (as bytes). */
export function bodyArb(s: Schema | undefined): fc.Arbitrary<Buffer | undefined> {
  if (!s) return weighted<Buffer | undefined>([8, fc.constant(undefined)], [1, wholeBodyArb], [1, fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? ''))]);
  const valid = validArb(s);
  const text = (v: Json) => expandMarkers(JSON.stringify(v) ?? 'null');
  return weighted<Buffer | undefined>(
    [4, valid.map((v) => Buffer.from(text(v)))],
    [7, fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([v, ms]) => Buffer.from(text(ms.reduce((acc, m) => m(acc), structuredClone(v)))))],
    [2, fc.tuple(valid, textMutationArb).map(([v, m]) => Buffer.from(m(text(v))))],
    [2, wholeBodyArb],
    [1, fc.constant(undefined)],
  );
}

export const percentEncode = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

/** A path segment as sent: encoded, or with broken or tricky escapes. */
export const segmentArb = (id: fc.Arbitrary<string>) =>
  weighted<string>(
    [10, id.map(percentEncode)],
    [1, fc.tuple(id.map(percentEncode), fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '%2e%2e', ';x=1', '%F0%9F%98', '%C0%AF', '.', '/', '//')).map(([a, b]) => a + b)],
  );

const AUTH_VARIANTS = ['Bearer', 'Bearer ', `bearer ${ADMIN_KEY}`, `BEARER  ${ADMIN_KEY}  `, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${ADMIN_KEY}x`, `Bearer ${ADMIN_KEY} extra`, `Bearer hb_live_${'x'.repeat(8000)}`, 'Bearer hb_test_', `Token ${ADMIN_KEY}`];
export const CONTENT_TYPES_JSONISH = ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json;', ' application/json ', 'application/problem+json', 'application/vnd.api+json', 'application/jsonx', 'application/json; boundary=x; charset="utf-8"'];
export const CONTENT_TYPES_OTHER = ['text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', 'application/*', '', 'json', ';', 'application/json, text/plain', 'text/html; charset=utf-8'];
/** Header names worth trying; not the framing ones undici refuses to send (those are the raw property's). */
const HEADER_NAMES = ['accept', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'x-request-id', 'origin', 'referer', 'cookie', 'content-encoding', 'content-language', 'accept-version', 'if-none-match', 'if-modified-since', 'range', 'x-http-method-override', 'user-agent', 'idempotency-key', 'authorization', 'content-type', 'webhook-id'];
export const headerNameArb = fc.oneof(fc.constantFrom(...HEADER_NAMES), tokenArb);

export function headersArb(opts: { auth: boolean; params: Param[] }): fc.Arbitrary<{ headers: string[]; contentType: string | null }> {
  const auth = opts.auth
    ? weighted<string | null>([14, fc.constant(`Bearer ${ADMIN_KEY}`)], [2, fc.constant(`Bearer ${ctx.otherKey}`)], [1, fc.constant(null)], [2, fc.constantFrom(...AUTH_VARIANTS)], [1, headerValue])
    : fc.constant(null);
  const contentType = weighted<string | null>([10, fc.constant('application/json')], [3, fc.constantFrom(...CONTENT_TYPES_JSONISH)], [2, fc.constantFrom(...CONTENT_TYPES_OTHER)], [1, headerValue], [1, fc.constant(null)]);
  // Header values are Latin-1: a valid one is drawn from visible ASCII within the schema's length.
  const params = fc.tuple(...opts.params.map((p) => fc.option(fc.oneof(fc.string({ unit: fc.constantFrom(...VISIBLE_ASCII), minLength: p.schema.minLength ?? 0, maxLength: p.schema.maxLength ?? 64 }), headerValue), { freq: 2 }).map((v) => [p.name, v] as const)));
  return fc
    .record({
      auth,
      contentType,
      params,
      extra: fc.array(fc.tuple(headerNameArb, headerValue), { maxLength: 4 }),
      duplicate: oneIn(6, fc.tuple(fc.constantFrom('content-type', 'authorization', 'idempotency-key', 'accept'), headerValue)),
      huge: oneIn(12, fc.tuple(headerNameArb, fc.constantFrom(4096, 8000, 15_000, 17_000, 70_000))),
    })
    .map(({ auth, contentType, params, extra, duplicate, huge }) => {
      const h: string[] = [];
      if (auth !== null) h.push('authorization', auth);
      if (contentType !== null) h.push('content-type', contentType);
      for (const [k, v] of params) if (v !== null) h.push(k, v);
      for (const [k, v] of extra) h.push(k, v);
      if (duplicate) h.push(...duplicate);
      if (huge) h.push(huge[0], 'h'.repeat(huge[1]));
      return { headers: h, contentType };
    });
}

/** The route's query parameters (valid ones only when `clean`), unknown ones, repeats, broken escapes. */
export function queryArb(route: Route, clean: boolean): fc.Arbitrary<string> {
  const params = route.params.filter((p) => p.in === 'query');
  const valid = (p: Param) => validArb(p.schema, p.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const known = fc.tuple(
    ...params.map((p) => fc.option(clean ? valid(p) : weighted<string>([5, valid(p)], [1, anyText], [1, fc.constant('9'.repeat(400))]), { freq: 2 }).map((v) => [p.name, v] as const)),
  );
  const extra = clean ? fc.constant([]) : fc.array(fc.tuple(fc.oneof(tokenArb, anyText, fc.constantFrom(...params.map((p) => p.name), 'limit', '__proto__')), fc.oneof(anyText, headerValue)), { maxLength: 3 });
  const tail = clean ? fc.constant(null) : oneIn(5, fc.constantFrom('%', '%zz', '&&', '=', '==&=', '%00=%00', 'a[b]=1', 'limit[]=1', '__proto__[admin]=1', 'limit=1&limit=2', '?', 'x=%E0%A4%A'));
  return fc.tuple(known, extra, tail).map(([k, e, t]) => {
    const pairs = [...k.filter((p): p is readonly [string, string] => p[1] !== null), ...e]
      // The long poll waits as long as asked; keep it short (a non-number is still a 400).
      .map(([name, v]) => [name, name === 'wait' && Number(v) > 0.05 ? '0.05' : v] as const);
    let text = pairs.map(([name, v]) => `${percentEncode(name)}=${percentEncode(v)}`).join('&');
    if (t) text += (text ? '&' : '') + t;
    return text ? `?${text}` : '';
  });
}
