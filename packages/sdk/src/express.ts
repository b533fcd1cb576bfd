/**
 * `@hookbridge/sdk/express`: verify Hookbridge webhooks in Express (written for 4 and 5; tested on 5).
 *
 *   app.post('/webhooks/hookbridge', hookbridgeWebhook({ secret }), (req, res) => { req.webhook … });
 *
 * Verification needs the exact bytes that were signed. The middleware reads them from the request
 * stream itself, or takes them from `express.raw()` / `express.text()` if one ran first. If
 * `express.json()` ran first the bytes are gone (parsed, and any re-serialisation differs), so it
 * fails loudly instead of refusing every webhook with a puzzling invalid_signature.
 * No Node APIs: the request is used only as an event emitter of chunks.
 */
import { DEFAULT_MAX_BODY_BYTES, refusal, verdict, type Verdict, type WebhookMiddlewareOptions } from './middleware.js';

export type { WebhookMiddlewareOptions } from './middleware.js';

/** The parts of Express's Request the middleware uses (so @types/express is not needed). */
export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  webhook?: unknown;
}
export interface WebhookResponse {
  status(code: number): { json(body: unknown): unknown };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified payload, set by hookbridgeWebhook(). */
      webhook?: unknown;
    }
  }
}

export const REPARSED_BODY_MESSAGE =
  'hookbridgeWebhook: the request body was already parsed by express.json() (or another body parser), so the exact bytes ' +
  'that were signed are gone and the signature cannot be checked. Register the webhook route before app.use(express.json()), ' +
  'or mount express.json() only on the routes that need it.';

export function hookbridgeWebhook(opts: WebhookMiddlewareOptions) {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return function hookbridgeWebhookMiddleware(req: WebhookRequest, res: WebhookResponse, next: (err?: unknown) => void): void {
    const answer = (v: Verdict) => {
      if (v.ok) {
        req.webhook = v.payload;
        next();
      } else {
        res.status(v.status).json(v.body);
      }
    };
    rawBody(req, limit)
      .then((raw) => (typeof raw === 'object' && 'tooLarge' in raw ? refusal(413, 'payload_too_large', `the body is larger than ${limit} bytes`) : verdict(raw, req.headers, opts)))
      .then(answer, next);
  };
}

/** The body as received: from express.raw()/express.text() when one ran, else read from the stream. */
function rawBody(req: WebhookRequest & { _body?: boolean }, limit: number): Promise<string | Uint8Array | { tooLarge: true }> {
  const body = req.body;
  if (body instanceof Uint8Array || typeof body === 'string') return Promise.resolve(body);
  // body-parser marks what it consumed with `_body`; Express 4 also leaves `{}` when it did not.
  if (req._body === true || req.readableEnded) {
    return Promise.reject(new Error(body !== undefined && body !== null ? REPARSED_BODY_MESSAGE : 'hookbridgeWebhook: the request body was already consumed by another middleware'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    const encoder = new TextEncoder();
    req.on('data', (chunk: Uint8Array | string) => {
      if (done) return;
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      size += bytes.length;
      if (size > limit) {
        // Stop collecting but let the stream drain, so the 413 can still be answered.
        done = true;
        chunks.length = 0;
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(bytes);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const out = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      resolve(out);
    });
    req.on('error', (err: unknown) => {
      if (!done) reject(err);
      done = true;
    });
  });
}
