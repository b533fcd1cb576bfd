/**
 * The one logger (pino, shared with Fastify). Secrets never reach it (DESIGN.md §7): API keys,
 * credential headers and signing secrets are redacted wherever they appear in a logged object,
 * and a logged request's URL has its credential query parameters masked (core/redact-url.ts).
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { redactUrl } from './core/redact-url.js';

/** Credential headers, under every name a logged object may carry headers. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'set-cookie', '["x-api-key"]', '["proxy-authorization"]'];

export const REDACT_PATHS = [
  ...CREDENTIAL_HEADERS.flatMap((h) => {
    const at = (base: string) => (h.startsWith('[') ? `${base}${h}` : `${base}.${h}`);
    return [at('req.headers'), at('headers'), at('*.headers')];
  }),
  'authorization',
  '*.authorization',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'signing_secret',
  '*.signing_secret',
  'secrets',
  '*.secrets',
];

export type LogFormat = 'json' | 'pretty';

/** What a logged request shows: enough to find it, nothing that could hold a credential. */
function requestSerializer(req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) {
  return { method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url), remoteAddress: req.ip ?? req.socket?.remoteAddress };
}

/**
 * `json`: one JSON object per line (for collectors). `pretty`: pino-pretty on the main thread
 * (sync, no worker thread of a pino transport), coloured on a terminal unless NO_COLOR is set.
 * Redaction runs in pino before either format sees the line.
 */
export function createLogger(level: string, format: LogFormat = 'json', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'hookbridge' },
    serializers: { req: requestSerializer, err: pino.stdSerializers.err },
  };
  if (format === 'pretty') {
    const colorize = destination === undefined && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    // pino-pretty pipes into a stream; a bare { write } destination (tests) is wrapped in one.
    const into = destination === undefined ? 1 : new Writable({ write: (chunk, _enc, done) => (destination.write(String(chunk)), done()) });
    const pretty = pinoPretty({ colorize, sync: true, translateTime: 'SYS:standard', ignore: 'pid,hostname,service', destination: into });
    return pino(options, pretty);
  }
  return pino(options, destination);
}
