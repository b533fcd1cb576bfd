/**
 * Maps every error that reaches Fastify onto the API's error shape and codes (DESIGN.md §3), in
 * one place. Anything unexpected becomes 500 internal_error and is logged; nothing a client sends
 * should ever land there.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from '../core/errors.js';
import { newRequestId } from '../core/request-id.js';

/** The API's error body; `request_id` is also the response's x-request-id header. */
export function errorBody(requestId: string, code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details !== undefined ? { details } : {}), request_id: requestId } };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationDetails(errors: AjvError[], context: string | undefined) {
  return errors.map((e) => {
    let field = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (e.params?.missingProperty) field = [field, e.params.missingProperty].filter(Boolean).join('.');
    if (e.params?.additionalProperty) field = [field, e.params.additionalProperty].filter(Boolean).join('.');
    const message = e.params?.additionalProperty ? 'is not a known field' : (e.message ?? 'is invalid');
    return { field: field || context || '(root)', in: context, message };
  });
}

const BY_FASTIFY_CODE: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'send the body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_request', 'the body is not valid JSON'],
};

/** Connection-level failures of the store (PostgreSQL down or restarting, a socket cut). */
const STORE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const STORE_DOWN_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** Whether the error or one of its causes passes `test`. */
function someCause(err: unknown, test: (e: { code?: string; message?: string }) => boolean): boolean {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (test(e)) return true;
  }
  return false;
}

export function isStoreUnavailable(err: unknown): boolean {
  return someCause(err, (e) => STORE_DOWN_CODES.has(e.code ?? '') || STORE_DOWN_MESSAGES.test(e.message ?? ''));
}

/** PostgreSQL text cannot hold U+0000 (SQLSTATE 22021; 22P05 for the \u0000 escape): the client sent it. */
const isNulCharacter = (err: unknown) => someCause(err, (e) => e.code === '22021' || e.code === '22P05');

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    if (err instanceof ApiError) {
      if (err.headers) void reply.headers(err.headers);
      return reply.status(err.status).send(errorBody(request.id, err.code, err.message, err.details));
    }
    if (err.validation) {
      return reply.status(400).send(errorBody(request.id, 'invalid_request', `invalid ${err.validationContext ?? 'request'}`, validationDetails(err.validation, err.validationContext)));
    }
    const known = err.code ? BY_FASTIFY_CODE[err.code] : undefined;
    if (known) return reply.status(known[0]).send(errorBody(request.id, known[1], known[2]));
    if (err instanceof SyntaxError && /prototype/i.test(err.message)) {
      return reply.status(400).send(errorBody(request.id, 'invalid_request', 'the body contains a forbidden "__proto__" or "constructor.prototype" key'));
    }
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return reply.status(400).send(errorBody(request.id, 'invalid_request', 'the body is not valid JSON'));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send(errorBody(request.id, status === 404 ? 'not_found' : 'invalid_request', err.message));
    }
    if (isNulCharacter(err)) {
      return reply.status(400).send(errorBody(request.id, 'invalid_request', 'text must not contain the NUL character (U+0000)'));
    }
    if (isStoreUnavailable(err)) {
      // Nothing was acknowledged; the client should simply try again shortly.
      request.log.warn({ err }, 'store unavailable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send(errorBody(request.id, 'store_unavailable', 'the store is unreachable right now; nothing was stored; retry shortly'));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody(request.id, 'internal_error', `internal error; see the server log for request ${request.id}`));
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(errorBody(request.id, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}

/**
 * Fastify's clientErrorHandler: what Node's HTTP parser refuses before any route runs (headers
 * over the size limit, a request not received within the timeouts, bytes that are not HTTP),
 * answered in the API's error shape; then the connection is closed. Only the error code is
 * logged: the error carries the raw bytes received (rawPacket), Authorization header included.
 */
export function answerClientError(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ApiError('request_timeout', 'the request was not received in time')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError('headers_too_large', 'the request headers are too large')
        : new ApiError('invalid_request', 'the request is not valid HTTP');
  // No request exists yet, so Fastify made no id: this answer gets one of its own, logged with it.
  const requestId = newRequestId();
  this.log.debug({ code: err.code, request_id: requestId }, 'client error before routing');
  if (socket.writable) {
    const body = JSON.stringify(errorBody(requestId, code, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
