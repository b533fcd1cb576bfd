/** No verification: every request is accepted (for trusted networks and testing). */
import { Type, type Static } from 'typebox';
import { OK, type Preset } from './types.js';

export const NoneSchema = Type.Object({ type: Type.Literal('none') }, { additionalProperties: false });
export type NoneConfig = Static<typeof NoneSchema>;

export const nonePreset: Preset<NoneConfig> = {
  type: 'none',
  schema: NoneSchema,
  verify: () => OK,
  eventId: () => null,
  eventType: () => null,
  credentialHeaders: () => [],
  credentialQuery: () => [],
};
