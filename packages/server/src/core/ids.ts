import { randomBytes } from 'node:crypto';

/**
 * Ids are `<prefix>_<26 chars>`: 10 chars of millisecond time then 16 random chars, in
 * Crockford base32. They sort by creation time, so the store can paginate and keep FIFO order
 * by id alone, and they reveal nothing guessable beyond the creation time.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix = 'proj' | 'key' | 'ep' | 'msg' | 'dlv' | 'att' | 'sec' | 'evt' | 'in' | 'ie' | 'rej' | 'exp' | 'req';

let lastMs = 0;
let lastRandom: number[] = [];

/** Whether `s` has the shape of an id newId(prefix) makes (a cheap check before a lookup). */
export function isIdOf(prefix: IdPrefix, s: string): boolean {
  return s.length === prefix.length + 27 && s.startsWith(`${prefix}_`) && [...s.slice(prefix.length + 1)].every((c) => ALPHABET.includes(c));
}

export function newId(prefix: IdPrefix, at = Date.now()): string {
  // Never go back in time, whatever time the caller passes (an attempt's start can be older
  // than a message created in the same batch): ids of this process are strictly increasing.
  const now = Math.max(at, lastMs);
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // Within one millisecond, increment the random part so ids made in the same process stay
  // in creation order (FIFO endpoints depend on it).
  let digits: number[];
  if (now === lastMs && lastRandom.length === 16) {
    digits = lastRandom.slice();
    let i = 15;
    while (i >= 0 && digits[i] === 31) digits[i--] = 0;
    if (i >= 0) digits[i]++;
  } else {
    const bytes = randomBytes(16);
    // Top bit clear leaves room to increment without overflowing into the time part.
    digits = Array.from(bytes, (b, i) => (i === 0 ? b % 16 : b % 32));
  }
  lastMs = now;
  lastRandom = digits;
  return `${prefix}_${time}${digits.map((d) => ALPHABET[d]).join('')}`;
}

/** Creation time (ms) encoded in an id made by newId, or null for other strings. */
export function idTime(id: string): number | null {
  const body = id.slice(id.indexOf('_') + 1);
  if (body.length !== 26) return null;
  let t = 0;
  for (const ch of body.slice(0, 10)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    t = t * 32 + v;
  }
  return t;
}
