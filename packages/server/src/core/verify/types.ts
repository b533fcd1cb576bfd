/**
 * Inbound webhook verification: the shapes every preset shares. Pure logic: the caller supplies
 * the raw bytes, the headers and the current time.
 */
import type { TSchema } from 'typebox';

export interface IngestRequest {
  /** Raw request bytes exactly as received. */
  body: Buffer;
  /** Header names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** Query parameters (first value of each). */
  query: Record<string, string>;
  /** Current time, Unix milliseconds. */
  now: number;
}

export type RejectionReason = 'missing_signature' | 'invalid_signature' | 'timestamp_out_of_range' | 'invalid_token';

export type VerifyOutcome = { ok: true } | { ok: false; reason: RejectionReason };

export interface Preset<C extends { type: string }> {
  type: C['type'];
  /** TypeBox schema of this preset's `verification` object (with its `type` literal). additionalProperties: false. */
  schema: TSchema;
  verify(config: C, req: IngestRequest): VerifyOutcome;
  /** The provider's own event/delivery id, used for deduplication, or null when the request has none. */
  eventId(config: C, req: IngestRequest): string | null;
  /** Lower-cased header names that carry the provider's credentials/signature: never forwarded, redacted when stored. */
  credentialHeaders(config: C): string[];
  /** Query parameter names that carry credentials (token-in-query), stripped/redacted likewise. */
  credentialQuery(config: C): string[];
  /** A short event type name from the request, or null. */
  eventType(config: C, req: IngestRequest): string | null;
}

/** The secret fields every signing preset accepts: one secret, or several during a rotation. */
export interface SecretConfig {
  secret?: string;
  secrets?: string[];
}

/**
 * Every configured secret. Empty strings are dropped so that a mis-stored config can never make
 * an empty key (which anyone can sign with) acceptable.
 */
export function secretsOf(config: SecretConfig): string[] {
  const all = [...(config.secret !== undefined ? [config.secret] : []), ...(config.secrets ?? [])];
  return all.filter((s) => typeof s === 'string' && s.length > 0);
}

export const OK: VerifyOutcome = { ok: true };

export function reject(reason: RejectionReason): VerifyOutcome {
  return { ok: false, reason };
}
