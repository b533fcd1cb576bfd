/** The secret-rotation request and answer, shared by outbound and inbound endpoints. */
import { Type, type Static } from 'typebox';

const DEFAULT_GRACE_SECONDS = 24 * 3600;
const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export const RotateBody = Type.Optional(
  Type.Object({ grace_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_GRACE_SECONDS })) }, { additionalProperties: false }),
);

export const RotateResponse = Type.Object({ signing_secret: Type.String(), previous_secret_expires_at: Type.String() });

/** How long the old secret keeps signing: 24 h unless the request says otherwise (at most 7 d). */
export function rotationGraceMs(body: Static<typeof RotateBody>): number {
  return Math.round((body?.grace_seconds ?? DEFAULT_GRACE_SECONDS) * 1000);
}
