/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>` with
 * `X-Slack-Request-Timestamp: ts` (https://api.slack.com/authentication/verifying-requests-from-slack).
 */
import { Type, type Static } from 'typebox';
import {
  anyDigestMatches,
  decodeHex,
  headerOf,
  hmac,
  jsonObject,
  parseTimestamp,
  secretFields,
  stringField,
  Tolerance,
  withinTolerance,
} from './shared.js';
import { OK, reject, secretsOf, type Preset } from './types.js';

export const SlackSchema = Type.Object(
  { type: Type.Literal('slack'), ...secretFields, tolerance_seconds: Tolerance },
  { additionalProperties: false },
);
export type SlackConfig = Static<typeof SlackSchema>;

const HEADER = 'x-slack-signature';
const TS_HEADER = 'x-slack-request-timestamp';
const PREFIX = 'v0=';

/**
 * Slack's Events API sends `{type:'url_verification', challenge}` when a URL is registered and
 * expects the challenge echoed back; the ingest route answers it (after verify) instead of forwarding.
 */
export function slackUrlVerificationChallenge(body: Buffer): string | null {
  const obj = jsonObject(body);
  return obj && obj.type === 'url_verification' ? stringField(obj, 'challenge') : null;
}

export const slackPreset: Preset<SlackConfig> = {
  type: 'slack',
  schema: SlackSchema,
  verify(config, req) {
    const value = headerOf(req, HEADER);
    const ts = headerOf(req, TS_HEADER);
    if (value === null || ts === null) return reject('missing_signature');
    const tsMs = parseTimestamp(ts);
    if (tsMs === null) return reject('invalid_signature');
    const sigs = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith(PREFIX))
      .map((s) => decodeHex(s.slice(PREFIX.length)))
      .filter((b): b is Buffer => b !== null);
    if (sigs.length === 0) return reject('invalid_signature');
    const expected = secretsOf(config).map((s) => hmac('sha256', s, [`v0:${ts}:`, req.body]));
    if (!anyDigestMatches(expected, sigs)) return reject('invalid_signature');
    if (!withinTolerance(tsMs, req.now, config.tolerance_seconds)) return reject('timestamp_out_of_range');
    return OK;
  },
  // Slash commands and interactivity are form-encoded and carry no event id: jsonObject → null.
  eventId: (_config, req) => stringField(jsonObject(req.body), 'event_id'),
  eventType(_config, req) {
    const obj = jsonObject(req.body);
    const event = obj && Object.hasOwn(obj, 'event') ? obj.event : null;
    const inner = event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Record<string, unknown>) : null;
    return stringField(inner, 'type') ?? stringField(obj, 'type');
  },
  credentialHeaders: () => [HEADER],
  credentialQuery: () => [],
};
