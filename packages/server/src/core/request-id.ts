/**
 * Request ids: every API request has one (echoed in `x-request-id`, in error bodies, on log
 * lines, on the message it created), and so does every attempt Hookbridge sends
 * (`x-hookbridge-request-id`). A client may bring its own id for correlation; it is kept if it is
 * short and made of characters that cannot break a log line or a header.
 */
import { newId } from './ids.js';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A new id: `req_` + the time-sortable id body (core/ids.ts). */
export function newRequestId(): string {
  return newId('req');
}

/** The client's `x-request-id` if acceptable, else a new id. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : newRequestId();
}
