/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, no timestamp
 * (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
 */
import { Type, type Static } from 'typebox';
import { anyDigestMatches, decodeHex, headerOf, hmac, secretFields } from './shared.js';
import { OK, reject, secretsOf, type Preset } from './types.js';

export const GithubSchema = Type.Object({ type: Type.Literal('github'), ...secretFields }, { additionalProperties: false });
export type GithubConfig = Static<typeof GithubSchema>;

const HEADER = 'x-hub-signature-256';
const PREFIX = 'sha256=';

export const githubPreset: Preset<GithubConfig> = {
  type: 'github',
  schema: GithubSchema,
  verify(config, req) {
    // The legacy SHA-1 X-Hub-Signature alone is not accepted: SHA-256 is always sent alongside it.
    const value = headerOf(req, HEADER);
    if (value === null) return reject('missing_signature');
    // Split on commas: a proxy may have joined a repeated header.
    const sigs = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.toLowerCase().startsWith(PREFIX))
      .map((s) => decodeHex(s.slice(PREFIX.length)))
      .filter((b): b is Buffer => b !== null);
    if (sigs.length === 0) return reject('invalid_signature');
    const expected = secretsOf(config).map((s) => hmac('sha256', s, [req.body]));
    return anyDigestMatches(expected, sigs) ? OK : reject('invalid_signature');
  },
  eventId: (_config, req) => headerOf(req, 'x-github-delivery'),
  eventType: (_config, req) => headerOf(req, 'x-github-event'),
  credentialHeaders: () => [HEADER, 'x-hub-signature'],
  credentialQuery: () => [],
};
