/**
 * Shared token: a static secret in a header (default `Authorization: Bearer <token>`) or in a
 * query parameter, for providers that cannot sign.
 */
import { Type, type Static } from 'typebox';
import { headerOf, HeaderName, queryOf, secretFields, tokenEquals } from './shared.js';
import { OK, reject, secretsOf, type IngestRequest, type Preset } from './types.js';

export const TokenSchema = Type.Object(
  {
    type: Type.Literal('token'),
    ...secretFields,
    header: Type.Optional(HeaderName),
    query: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type TokenConfig = Static<typeof TokenSchema>;

const DEFAULT_HEADER = 'authorization';

function headerName(config: TokenConfig): string {
  return (config.header ?? DEFAULT_HEADER).toLowerCase();
}

function presented(config: TokenConfig, req: IngestRequest): string | null {
  if (config.query !== undefined) return queryOf(req, config.query);
  const name = headerName(config);
  const value = headerOf(req, name);
  if (value === null || name !== DEFAULT_HEADER) return value;
  const bearer = /^bearer(?:\s+(.*))?$/i.exec(value);
  if (!bearer) return value;
  // "Bearer" with nothing after it carries no credential at all.
  return bearer[1] ? bearer[1].trim() : null;
}

export const tokenPreset: Preset<TokenConfig> = {
  type: 'token',
  schema: TokenSchema,
  verify(config, req) {
    const given = presented(config, req);
    if (given === null) return reject('missing_signature');
    let found = false;
    for (const s of secretsOf(config)) if (tokenEquals(given, s)) found = true;
    return found ? OK : reject('invalid_token');
  },
  eventId: () => null,
  eventType: () => null,
  // Both are redacted if a config somehow names both: over-redacting is the safe mistake.
  credentialHeaders: (config) => (config.query !== undefined && config.header === undefined ? [] : [headerName(config)]),
  credentialQuery: (config) => (config.query !== undefined ? [config.query] : []),
};
