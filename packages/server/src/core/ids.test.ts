import { describe, expect, it } from 'vitest';
import { idTime, isIdOf, newId } from './ids.js';

describe('newId', () => {
  it('makes prefixed, time-readable ids', () => {
    const id = newId('msg', 1_700_000_000_000);
    expect(id).toMatch(/^msg_[0-9a-z]{26}$/);
    expect(idTime(id)).toBeGreaterThanOrEqual(1_700_000_000_000);
  });

  it('is strictly increasing across prefixes, even when a caller passes an older time', () => {
    const ids: string[] = [];
    const t = Date.now();
    for (let i = 0; i < 2000; i++) {
      ids.push(newId('dlv', t).slice(4));
      // an attempt record made in the same batch with an earlier timestamp
      newId('att', t - 5);
      ids.push(newId('dlv').slice(4));
    }
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('isIdOf', () => {
  it('knows the shape newId makes, and nothing else', () => {
    const id = newId('proj');
    expect(isIdOf('proj', id)).toBe(true);
    expect(isIdOf('ep', id)).toBe(false);
    for (const s of ['proj_', `${id}x`, id.slice(0, -1), id.toUpperCase(), `${id.slice(0, -1)}u`, `x${id.slice(1)}`]) expect(isIdOf('proj', s), s).toBe(false);
  });
});
