/**
 * Who may frame the consumer portal: the project's portal_frame_ancestors, checked when the
 * setting is written (schemas.ts) and again when it goes into the portal page's CSP header
 * (api/console.ts). One pattern for both, since each origin lands in a header as it is.
 */

/** An origin that can stand in a CSP source list: no spaces, quotes, commas or semicolons, which would add directives. */
export const FRAME_ANCESTOR_ORIGIN = /^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

/** The frame-ancestors sources of a portal page: the server itself and the project's valid origins. */
export function portalFrameAncestors(origins: readonly string[] | undefined): string {
  return ["'self'", ...(origins ?? []).filter((o) => FRAME_ANCESTOR_ORIGIN.test(o))].join(' ');
}
