/**
 * Generic HMAC: for providers without a preset. The signature header holds one or more
 * (comma- or space-separated) digests of a configurable signed content, optionally prefixed.
 */
import { Type, type Static } from 'typebox';
import {
  anyDigestMatches,
  decodeBase64,
  decodeHex,
  headerOf,
  HeaderName,
  hmac,
  parseTimestamp,
  secretFields,
  Tolerance,
  withinTolerance,
} from './shared.js';
import { OK, reject, secretsOf, type Preset } from './types.js';

export const HmacSchema = Type.Object(
  {
    type: Type.Literal('hmac'),
    ...secretFields,
    header: HeaderName,
    algorithm: Type.Optional(Type.Union([Type.Literal('sha1'), Type.Literal('sha256'), Type.Literal('sha512')])),
    encoding: Type.Optional(Type.Union([Type.Literal('hex'), Type.Literal('base64')])),
    // No spaces or commas: those separate several signatures in one header.
    prefix: Type.Optional(Type.String({ maxLength: 64, pattern: '^[^\\s,]*$' })),
    timestamp_header: Type.Optional(HeaderName),
    signed_content: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    tolerance_seconds: Tolerance,
    id_header: Type.Optional(HeaderName),
  },
  { additionalProperties: false },
);
export type HmacConfig = Static<typeof HmacSchema>;

type Part = { literal: string } | { field: 'body' | 'timestamp' };

function template(config: HmacConfig): string {
  return config.signed_content ?? (config.timestamp_header ? '{timestamp}.{body}' : '{body}');
}

function parseTemplate(t: string): Part[] {
  return t
    .split(/(\{body\}|\{timestamp\})/)
    .filter((s) => s !== '')
    .map((s) => (s === '{body}' ? { field: 'body' } : s === '{timestamp}' ? { field: 'timestamp' } : { literal: s }));
}

/** A config problem the schema cannot express, or null. */
export function hmacConfigProblem(config: HmacConfig): string | null {
  const t = template(config);
  // Without {body} the signature would not cover the payload: any body would verify.
  if (!t.includes('{body}')) return 'signed_content must include {body}';
  if (t.includes('{timestamp}') && !config.timestamp_header) return 'signed_content uses {timestamp} but timestamp_header is not set';
  const unknown = t.match(/\{(?!body\}|timestamp\})[A-Za-z_]+\}/);
  if (unknown) return `signed_content has an unknown placeholder ${unknown[0]} (use {body} and {timestamp})`;
  if (config.tolerance_seconds !== undefined && !config.timestamp_header) return 'tolerance_seconds requires timestamp_header';
  return null;
}

export const hmacPreset: Preset<HmacConfig> = {
  type: 'hmac',
  schema: HmacSchema,
  verify(config, req) {
    // Fail closed on a config that skipped checkVerificationConfig (e.g. a template without {body}).
    if (hmacConfigProblem(config) !== null) return reject('invalid_signature');
    const value = headerOf(req, config.header);
    if (value === null) return reject('missing_signature');
    let ts: string | null = null;
    let tsMs: number | null = null;
    if (config.timestamp_header) {
      ts = headerOf(req, config.timestamp_header);
      if (ts === null) return reject('missing_signature');
      tsMs = parseTimestamp(ts, true);
      if (tsMs === null) return reject('invalid_signature');
    }
    const prefix = (config.prefix ?? '').toLowerCase();
    const decode = config.encoding === 'base64' ? decodeBase64 : decodeHex;
    const sigs = value
      .split(/[\s,]+/)
      // With a prefix configured, entries without it are other fields (e.g. `t=…`), not signatures.
      .filter((s) => s !== '' && s.toLowerCase().startsWith(prefix))
      .map((s) => decode(s.slice(prefix.length)))
      .filter((b): b is Buffer => b !== null);
    if (sigs.length === 0) return reject('invalid_signature');
    // Built from bytes, not a string: the body may be binary and must be signed exactly as received.
    const parts = parseTemplate(template(config)).map((p) =>
      'literal' in p ? p.literal : p.field === 'body' ? req.body : (ts ?? ''),
    );
    const algorithm = config.algorithm ?? 'sha256';
    const expected = secretsOf(config).map((s) => hmac(algorithm, Buffer.from(s, 'utf8'), parts));
    if (!anyDigestMatches(expected, sigs)) return reject('invalid_signature');
    if (tsMs !== null && !withinTolerance(tsMs, req.now, config.tolerance_seconds)) return reject('timestamp_out_of_range');
    return OK;
  },
  eventId: (config, req) => (config.id_header ? headerOf(req, config.id_header) : null),
  eventType: () => null,
  credentialHeaders: (config) => [config.header.toLowerCase()],
  credentialQuery: () => [],
};
