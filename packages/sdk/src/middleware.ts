/** What the Express and Fastify adapters share: their options and the answer to a refused webhook. */
import { WebhookVerificationError } from './errors.js';
import { verifyWebhook, type VerifyOptions, type WebhookHeaders } from './verify.js';

export interface WebhookMiddlewareOptions extends VerifyOptions {
  /** The endpoint's signing secret; several while rotating (any may match). */
  secret: string | string[];
  /** Bodies larger than this are refused with 413. Default 1 MiB, the server's default payload limit. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The JSON a refusal answers, in the API's own error shape: `{"error":{"code":"<reason>",…}}`. */
export type Verdict = { ok: true; payload: unknown } | { ok: false; status: number; body: { error: { code: string; message: string } } };

export const refusal = (status: number, code: string, message: string): Verdict => ({ ok: false, status, body: { error: { code, message } } });

/** Verifies, turning a verification failure into a 400 answer; any other error is thrown on. */
export async function verdict(raw: string | Uint8Array, headers: WebhookHeaders, opts: WebhookMiddlewareOptions): Promise<Verdict> {
  try {
    return { ok: true, payload: await verifyWebhook(raw, headers, opts.secret, opts) };
  } catch (err) {
    if (err instanceof WebhookVerificationError) return refusal(400, err.reason, err.message);
    throw err;
  }
}
