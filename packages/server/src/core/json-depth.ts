/** Deeper JSON would overflow the stack in JSON.stringify/canonicalJson (a 500); no webhook needs it. */
export const MAX_JSON_DEPTH = 512;

/** True when `text` opens more than `max` nested arrays/objects (strings skipped). Linear, no recursion. */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
