/**
 * Inbound webhook verification: the preset registry and the functions the ingest route and the
 * API call. Each preset lives in its own file; this one dispatches on `type`.
 */
import { Type } from 'typebox';
import { basicPreset, BasicSchema, type BasicConfig } from './basic.js';
import { githubPreset, GithubSchema, type GithubConfig } from './github.js';
import { hmacConfigProblem, hmacPreset, HmacSchema, type HmacConfig } from './hmac.js';
import { nonePreset, NoneSchema, type NoneConfig } from './none.js';
import { isStrictBase64 } from './shared.js';
import { shopifyPreset, ShopifySchema, type ShopifyConfig } from './shopify.js';
import { slackPreset, SlackSchema, type SlackConfig } from './slack.js';
import { standardPreset, StandardSchema, type StandardConfig } from './standard.js';
import { stripePreset, StripeSchema, type StripeConfig } from './stripe.js';
import { tokenPreset, TokenSchema, type TokenConfig } from './token.js';
import { reject, secretsOf, type IngestRequest, type Preset, type VerifyOutcome } from './types.js';

export type { IngestRequest, Preset, RejectionReason, VerifyOutcome } from './types.js';
export { secretsOf } from './types.js';
export { slackUrlVerificationChallenge } from './slack.js';
export type { BasicConfig, GithubConfig, HmacConfig, NoneConfig, ShopifyConfig, SlackConfig, StandardConfig, StripeConfig, TokenConfig };

export type VerificationConfig =
  | StripeConfig
  | GithubConfig
  | ShopifyConfig
  | SlackConfig
  | StandardConfig
  | HmacConfig
  | TokenConfig
  | BasicConfig
  | NoneConfig;

export type VerificationType = VerificationConfig['type'];

export const VerificationSchema = Type.Union([
  StripeSchema,
  GithubSchema,
  ShopifySchema,
  SlackSchema,
  StandardSchema,
  HmacSchema,
  TokenSchema,
  BasicSchema,
  NoneSchema,
]);

export const PRESETS: { [K in VerificationType]: Preset<Extract<VerificationConfig, { type: K }>> } = {
  stripe: stripePreset,
  github: githubPreset,
  shopify: shopifyPreset,
  slack: slackPreset,
  standard: standardPreset,
  hmac: hmacPreset,
  token: tokenPreset,
  basic: basicPreset,
  none: nonePreset,
};

// Configs come back from storage, so an unknown type is possible; hasOwn keeps "__proto__" out.
function presetOf(cfg: VerificationConfig): Preset<VerificationConfig> | null {
  return Object.hasOwn(PRESETS, cfg.type) ? (PRESETS[cfg.type] as Preset<VerificationConfig>) : null;
}

/** An unknown preset type fails closed. */
export function verifyRequest(cfg: VerificationConfig, req: IngestRequest): VerifyOutcome {
  return presetOf(cfg)?.verify(cfg, req) ?? reject('invalid_signature');
}

export function eventIdOf(cfg: VerificationConfig, req: IngestRequest): string | null {
  return presetOf(cfg)?.eventId(cfg, req) ?? null;
}

export function eventTypeOf(cfg: VerificationConfig, req: IngestRequest): string | null {
  return presetOf(cfg)?.eventType(cfg, req) ?? null;
}

export function credentialHeadersOf(cfg: VerificationConfig): string[] {
  return presetOf(cfg)?.credentialHeaders(cfg) ?? [];
}

export function credentialQueryOf(cfg: VerificationConfig): string[] {
  return presetOf(cfg)?.credentialQuery(cfg) ?? [];
}

/** Problems the schema cannot express (run after schema validation), or null when the config is usable. */
export function checkVerificationConfig(cfg: VerificationConfig): string | null {
  if (!presetOf(cfg)) return `unknown verification type "${String(cfg.type)}"`;
  if (cfg.type === 'none' || cfg.type === 'basic') return null;
  if (cfg.secret !== undefined && cfg.secrets !== undefined) return 'give either secret or secrets, not both';
  if (cfg.secret === undefined && cfg.secrets === undefined) return 'secret or secrets is required';
  const secrets = secretsOf(cfg);
  if (secrets.length === 0) return 'secret must not be empty';
  if (new Set(secrets).size !== secrets.length) return 'secrets must not repeat';
  switch (cfg.type) {
    case 'standard':
      for (const s of secrets) {
        const b64 = s.startsWith('whsec_') ? s.slice('whsec_'.length) : s;
        if (!isStrictBase64(b64)) return 'standard secrets must be base64, optionally prefixed with whsec_';
      }
      return null;
    case 'token':
      return cfg.header !== undefined && cfg.query !== undefined ? 'token takes header or query, not both' : null;
    case 'hmac':
      return hmacConfigProblem(cfg);
    default:
      return null;
  }
}

/**
 * `whsec_…abcd`: enough to tell secrets apart in a UI without revealing them. A `_`-terminated
 * prefix of up to 6 characters is a type marker, not secret material, so it is kept; the last 4
 * are shown only when at least 12 characters of actual material remain.
 */
export function redactSecret(secret: string): string {
  if (secret.length < 12) return '…';
  const underscore = secret.indexOf('_');
  const prefix = underscore > 0 && underscore < 6 ? secret.slice(0, underscore + 1) : '';
  const material = secret.slice(prefix.length);
  return material.length < 12 ? `${prefix}…` : `${prefix}…${material.slice(-4)}`;
}

/** A copy safe to return from the API: secret, secrets and password values redacted. */
export function redactVerification<C extends VerificationConfig>(cfg: C): C {
  const out: Record<string, unknown> = { ...cfg };
  if (typeof out.secret === 'string') out.secret = redactSecret(out.secret);
  if (Array.isArray(out.secrets)) out.secrets = out.secrets.map((s) => (typeof s === 'string' ? redactSecret(s) : '…'));
  if (typeof out.password === 'string') out.password = redactSecret(out.password);
  return out as C;
}
