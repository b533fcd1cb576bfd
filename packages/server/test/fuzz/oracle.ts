/**
 * The fuzzer's oracle: what a conforming answer is. The error vocabulary with each code's status
 * (the API's and the ingest route's), the request and response shapes the properties pass around,
 * and `problemWith`, which says what is wrong with an answer (or null).
 */
import { ERROR_STATUS } from '../../src/core/errors.js';
import type { RejectionReason } from '../../src/core/verify/index.js';
import { parsePrometheusText } from '../prometheus-text.js';
import { parseCsv } from '../csv.js';

/** The test server's payload limit (HOOKBRIDGE_MAX_PAYLOAD_BYTES, its default). */
export const MAX_PAYLOAD = 1024 * 1024;

/** Every API error code with its status, including what Node's HTTP parser refuses before routing (answerClientError). */
const API_STATUS: Readonly<Record<string, number>> = ERROR_STATUS;
/** The ingest route's refusals (docs/api.md, "The ingest URL"). */
const INGEST_STATUS: Record<RejectionReason | 'ip_not_allowed' | 'endpoint_paused' | 'payload_too_large' | 'not_found', number> = {
  missing_signature: 401,
  invalid_signature: 401,
  timestamp_out_of_range: 401,
  invalid_token: 401,
  ip_not_allowed: 403,
  payload_too_large: 413,
  endpoint_paused: 503,
  not_found: 404,
};

export interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  /** Flat [name, value, name, value, …]: repeats allowed. */
  headers: string[];
  body?: Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const trunc = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function describeRequest(r: FuzzRequest): string {
  const pairs = [];
  for (let i = 0; i < r.headers.length; i += 2) pairs.push(`${r.headers[i]}: ${trunc(r.headers[i + 1], 120)}`);
  return `${r.method} ${trunc(r.path, 300)}\n  headers: ${pairs.join(' | ')}\n  body (${r.body?.length ?? 0} bytes): ${trunc(JSON.stringify(r.body?.toString('utf8') ?? ''), 600)}`;
}


export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const headerOf = (res: FuzzResponse, name: string) => String(res.headers[name] ?? '');

/** For an export file: what is wrong with it, or null; undefined when the answer is not one. */
function exportFileProblem(contentType: string, text: string): string | null | undefined {
  try {
    if (/^text\/csv/.test(contentType)) return parseCsv(text)[0]?.[0] === 'id' ? null : 'a CSV export without its header row';
    if (/^application\/x-ndjson/.test(contentType)) {
      for (const line of text.replace(/\n$/, '').split('\n')) JSON.parse(line);
      return null;
    }
  } catch (err) {
    return `an export file that does not parse: ${(err as Error).message}`;
  }
  return undefined;
}

/** What is wrong with an answer, or null. `ingest`: the ingest route's codes are known too. */
export function problemWith(res: FuzzResponse, method: string, ingest: boolean): string | null {
  if (res.status < 200 || (res.status >= 300 && res.status < 400) || res.status > 599) return `unexpected HTTP ${res.status}`;
  const text = res.body.toString('utf8');
  if (res.status < 300) {
    if (method === 'HEAD' || res.status === 204 || text === '') return null;
    // GET /metrics answers Prometheus text, which must then parse as such.
    if (/^text\/plain; version=0\.0\.4/.test(headerOf(res, 'content-type'))) {
      try {
        parsePrometheusText(text);
        return null;
      } catch (err) {
        return `HTTP ${res.status} whose Prometheus text does not parse: ${(err as Error).message}`;
      }
    }
    // An export download is a file: CSV (RFC 4180, a header row first) or NDJSON (a JSON value a line).
    const exportProblem = exportFileProblem(headerOf(res, 'content-type'), text);
    if (exportProblem !== undefined) return exportProblem && `HTTP ${res.status}: ${exportProblem}`;
    try {
      JSON.parse(text);
      return null;
    } catch {
      return `HTTP ${res.status} whose body is not JSON: ${trunc(text, 200)}`;
    }
  }
  if (method === 'HEAD') return res.status >= 500 ? `HTTP ${res.status}` : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `HTTP ${res.status} whose body is not JSON: ${trunc(JSON.stringify(text), 200)}`;
  }
  if (!/^application\/json/.test(headerOf(res, 'content-type'))) return `HTTP ${res.status} with content-type "${headerOf(res, 'content-type')}"`;
  if (!isObject(parsed) || Object.keys(parsed).join() !== 'error' || !isObject(parsed.error)) return `HTTP ${res.status}, not {"error":{…}}: ${trunc(text, 200)}`;
  const { code, message, request_id: requestId, ...rest } = parsed.error;
  if (Object.keys(rest).some((k) => k !== 'details')) return `unexpected error fields ${Object.keys(rest).join()}: ${trunc(text, 200)}`;
  // Every error names its request, the same id as the answer's header (also before routing).
  if (typeof requestId !== 'string' || requestId === '' || requestId !== headerOf(res, 'x-request-id')) {
    return `error whose request_id ${JSON.stringify(requestId)} is not its x-request-id header "${headerOf(res, 'x-request-id')}": ${trunc(text, 200)}`;
  }
  if (typeof message !== 'string' || message === '') return `error without a message: ${trunc(text, 200)}`;
  const known = (table: Record<string, number>) => (typeof code === 'string' && Object.hasOwn(table, code) ? table[code] : undefined);
  const expected = known(API_STATUS) ?? (ingest ? known(INGEST_STATUS) : undefined);
  if (expected === undefined) return `unknown error code ${JSON.stringify(code)}: ${trunc(text, 200)}`;
  if (expected !== res.status) return `code ${String(code)} with HTTP ${res.status} (its status is ${expected}): ${trunc(text, 200)}`;
  if (res.status >= 500 && !(ingest && code === 'endpoint_paused')) return `HTTP ${res.status} ${String(code)}: ${trunc(text, 200)}`;
  return null;
}
