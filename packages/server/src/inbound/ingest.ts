/**
 * POST /in/:id — where providers deliver. No API key: the endpoint's verification rules decide.
 * The request is verified on its raw bytes, stored durably, and answered before anything is
 * forwarded; refusals are stored as rejections and answered without detail an attacker could use.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forwardableHeaders, redactIngestHeaders, sourceAddress, sourceAllowed } from '../core/ingest-rules.js';
import { parseCidrList, type CidrList } from '../core/ip-policy.js';
import type { InboundEndpoint } from '../core/model.js';
import { slackUrlVerificationChallenge } from '../core/verify/slack.js';
import { credentialHeadersOf, eventIdOf, eventTypeOf, verifyRequest } from '../core/verify/index.js';
import type { IngestRequest } from '../core/verify/types.js';
import { errorBody } from '../api/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Store } from '../store/store.js';
import type { InboundHub } from './hub.js';

export interface IngestOptions {
  store: Store;
  hub: InboundHub;
  maxPayloadBytes: number;
  trustProxy: CidrList;
  dedupeWindowSeconds: number;
  /** A forwarded event was queued: wake the delivery worker. */
  wakeWorker: () => void;
  /** Counts every request by result (hookbridge_inbound_requests_total). */
  metrics: Metrics;
}

type Refusal = 'ip_not_allowed' | 'endpoint_paused' | 'payload_too_large' | 'missing_signature' | 'invalid_signature' | 'timestamp_out_of_range' | 'invalid_token';

const STATUS: Record<Refusal, number> = {
  ip_not_allowed: 403,
  endpoint_paused: 503,
  payload_too_large: 413,
  missing_signature: 401,
  invalid_signature: 401,
  timestamp_out_of_range: 401,
  invalid_token: 401,
};

/** The request's headers (lower-cased, repeats joined) and its source address. */
interface Seen {
  headers: Record<string, string>;
  sourceIp: string;
}

/** Content-Type headers set aside while the body is read (see the onRequest hook below). */
const contentTypes = new WeakMap<FastifyRequest, string>();

function flatHeaders(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  const contentType = contentTypes.get(req);
  if (contentType !== undefined) out['content-type'] = contentType;
  return out;
}

function flatQuery(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(req.url, 'http://x').searchParams) if (!(k in out)) out[k] = v;
  return out;
}

export async function ingestRoutes(app: FastifyInstance, opts: IngestOptions): Promise<void> {
  const { store, hub } = opts;
  const cidrCache = new Map<string, CidrList>();
  const allowedOf = (e: InboundEndpoint): CidrList | null => {
    if (!e.allowedCidrs) return null;
    const key = e.allowedCidrs.join(',');
    let list = cidrCache.get(key);
    if (!list) cidrCache.set(key, (list = parseCidrList(key)));
    return list;
  };

  // Providers send JSON, forms, text or anything else: every body is taken as raw bytes, since
  // signatures are computed over exactly those bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxPayloadBytes }, (_req, body, done) => done(null, body));
  // Fastify answers 415 to a Content-Type that is not a valid media type ("", "json", ";") before
  // any parser runs, the catch-all too; so the header is set aside while the body is read and put
  // back in the headers that are stored and forwarded.
  app.addHook('onRequest', async (req) => {
    const contentType = req.headers['content-type'];
    if (contentType === undefined) return;
    contentTypes.set(req, contentType);
    delete req.headers['content-type'];
  });

  /** What a refusal records and answers; headers and source as `seen` computed them. */
  const refuse = async (reply: FastifyReply, e: InboundEndpoint, reason: Refusal, seen: Seen, bodyBytes: number) => {
    opts.metrics.inboundRequest(reason);
    await store.inboundEvents.recordRejection(e, {
      reason,
      statusCode: STATUS[reason],
      sourceIp: seen.sourceIp,
      headers: redactIngestHeaders(seen.headers, credentialHeadersOf(e.verification)),
      bodyBytes,
    });
    if (reason === 'endpoint_paused') void reply.header('retry-after', '60');
    return reply.status(STATUS[reason]).send(errorBody(reply.request.id, reason, 'request refused'));
  };
  const see = (req: FastifyRequest): Seen => {
    const headers = flatHeaders(req);
    return { headers, sourceIp: sourceAddress(req.socket.remoteAddress ?? '', headers['x-forwarded-for'], opts.trustProxy) };
  };

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const e = await store.inboundEndpoints.getForIngest((req.params as { id: string }).id).catch(() => null);
      if (e) return refuse(reply, e, 'payload_too_large', see(req), Number(req.headers['content-length'] ?? 0));
      opts.metrics.inboundRequest('payload_too_large');
      return reply.status(413).send(errorBody(req.id, 'payload_too_large', 'request refused'));
    }
    throw err;
  });

  app.post<{ Params: { id: string } }>('/in/:id', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const e = await store.inboundEndpoints.getForIngest(req.params.id);
    // Unknown ids belong to no project, so there is nowhere to store them.
    if (!e) {
      opts.metrics.inboundRequest('not_found');
      return reply.status(404).send(errorBody(req.id, 'not_found', 'not found'));
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const seen = see(req);
    const { headers, sourceIp } = seen;
    if (!sourceAllowed(sourceIp, allowedOf(e))) return refuse(reply, e, 'ip_not_allowed', seen, body.length);
    if (e.status !== 'active') return refuse(reply, e, 'endpoint_paused', seen, body.length);

    const ingest: IngestRequest = { body, headers, query: flatQuery(req), now: Date.now() };
    const verdict = verifyRequest(e.verification, ingest);
    if (!verdict.ok) return refuse(reply, e, verdict.reason, seen, body.length);

    // Slack checks the URL with a signed challenge before sending events; it is not an event.
    if (e.verification.type === 'slack') {
      const challenge = slackUrlVerificationChallenge(body);
      if (challenge !== null) {
        opts.metrics.inboundRequest('url_verification');
        return reply.status(200).send({ challenge });
      }
    }

    const dedupeKey = storable(idempotencyKey(e, headers) ?? eventIdOf(e.verification, ingest));
    const result = await store.inboundEvents.accept(e, {
      headers: forwardableHeaders(headers, credentialHeadersOf(e.verification)),
      body,
      eventType: storable(eventTypeOf(e.verification, ingest)),
      sourceIp,
      dedupeKey,
      dedupeWindowMs: (e.dedupeWindowSeconds ?? opts.dedupeWindowSeconds) * 1000,
      requestId: req.id,
    });
    opts.metrics.inboundRequest(result.kind === 'created' ? 'accepted' : 'duplicate');
    if (result.kind === 'created') {
      if (e.mode === 'forward') opts.wakeWorker();
      else hub.notify(e.id);
    }
    return reply.status(e.ingestResponseCode).send({ id: result.id });
  });
}

/** Ids and types read from the body are stored as text, which in PostgreSQL cannot hold U+0000. */
const storable = (s: string | null) => s?.replaceAll('\u0000', '\ufffd') ?? null;

/** The first of the endpoint's idempotency headers the request carries. */
function idempotencyKey(e: InboundEndpoint, headers: Record<string, string>): string | null {
  for (const name of e.idempotencyHeaderNames ?? []) {
    const v = headers[name.toLowerCase()];
    if (v) return v;
  }
  return null;
}
