/**
 * The one logger (pino, shared with Fastify). Secrets never reach it: API keys, Authorization
 * headers and signing secrets are redacted wherever they appear in a logged object.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'hookbridge' } }, destination);
}
