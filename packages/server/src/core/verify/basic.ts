/** HTTP Basic auth (RFC 7617): `Authorization: Basic base64(user:pass)`. */
import { Type, type Static } from 'typebox';
import { headerOf, tokenEquals } from './shared.js';
import { OK, reject, type Preset } from './types.js';

export const BasicSchema = Type.Object(
  {
    type: Type.Literal('basic'),
    // RFC 7617: the user-id cannot contain a colon, since the first colon ends it.
    username: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^:]*$' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type BasicConfig = Static<typeof BasicSchema>;

const HEADER = 'authorization';

export const basicPreset: Preset<BasicConfig> = {
  type: 'basic',
  schema: BasicSchema,
  verify(config, req) {
    const value = headerOf(req, HEADER);
    if (value === null) return reject('missing_signature');
    const m = /^basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(value);
    if (!m) return reject('invalid_token');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return reject('invalid_token');
    // Both compared every time (no short-circuit), so timing does not reveal which one was wrong.
    const userOk = tokenEquals(decoded.slice(0, colon), config.username);
    const passOk = tokenEquals(decoded.slice(colon + 1), config.password);
    return userOk && passOk ? OK : reject('invalid_token');
  },
  eventId: () => null,
  eventType: () => null,
  credentialHeaders: () => [HEADER],
  credentialQuery: () => [],
};
