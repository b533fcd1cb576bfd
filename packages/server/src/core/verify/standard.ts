/**
 * Standard Webhooks (and Svix, its origin): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<b64> v1,<b64>`; base64 HMAC-SHA256 of `${id}.${ts}.${body}` keyed by the
 * base64-decoded part of `whsec_…` (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 */
import { Type, type Static } from 'typebox';
import {
  anyDigestMatches,
  decodeBase64,
  headerOf,
  hmac,
  jsonObject,
  parseTimestamp,
  secretFields,
  stringField,
  Tolerance,
  withinTolerance,
} from './shared.js';
import { standardKey } from '../signing.js';
import { OK, reject, secretsOf, type IngestRequest, type Preset } from './types.js';

export const StandardSchema = Type.Object(
  { type: Type.Literal('standard'), ...secretFields, tolerance_seconds: Tolerance },
  { additionalProperties: false },
);
export type StandardConfig = Static<typeof StandardSchema>;

/**
 * webhook-* when that set is complete, else svix-* (Svix's names for the same scheme) when that
 * one is; with neither complete, whichever was attempted, so the rejection is missing_signature.
 */
function headerSet(req: IngestRequest): { id: string | null; ts: string | null; sig: string | null } {
  const read = (p: string) => ({ id: headerOf(req, `${p}-id`), ts: headerOf(req, `${p}-timestamp`), sig: headerOf(req, `${p}-signature`) });
  const complete = (s: ReturnType<typeof read>) => s.id !== null && s.ts !== null && s.sig !== null;
  const std = read('webhook');
  if (complete(std)) return std;
  const svix = read('svix');
  if (complete(svix)) return svix;
  return std.id !== null || std.ts !== null || std.sig !== null ? std : svix;
}

export const standardPreset: Preset<StandardConfig> = {
  type: 'standard',
  schema: StandardSchema,
  verify(config, req) {
    const { id, ts, sig } = headerSet(req);
    if (id === null || ts === null || sig === null) return reject('missing_signature');
    const tsMs = parseTimestamp(ts);
    if (tsMs === null) return reject('invalid_signature');
    // Entries of other versions (e.g. v1a, asymmetric) are skipped, as the spec requires. A
    // trailing comma is dropped: a proxy joining a repeated header leaves "v1,a, v1,b".
    const sigs: Buffer[] = [];
    for (const raw of sig.split(/\s+/)) {
      const entry = raw.replace(/,+$/, '');
      const comma = entry.indexOf(',');
      if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
      const b = decodeBase64(entry.slice(comma + 1));
      if (b) sigs.push(b);
    }
    if (sigs.length === 0) return reject('invalid_signature');
    const expected = secretsOf(config).map((s) => hmac('sha256', standardKey(s), [`${id}.${ts}.`, req.body]));
    if (!anyDigestMatches(expected, sigs)) return reject('invalid_signature');
    if (!withinTolerance(tsMs, req.now, config.tolerance_seconds)) return reject('timestamp_out_of_range');
    return OK;
  },
  eventId: (_config, req) => headerSet(req).id,
  // The spec's payload envelope is `{type, timestamp, data}`, so `type` is the event type.
  eventType: (_config, req) => stringField(jsonObject(req.body), 'type'),
  credentialHeaders: () => ['webhook-signature', 'svix-signature'],
  credentialQuery: () => [],
};
