import { describe, expect, it } from 'vitest';
import { jsonNestingExceeds } from './json-depth.js';

describe('jsonNestingExceeds', () => {
  it('counts nesting of arrays and objects, ignoring brackets inside strings', () => {
    expect(jsonNestingExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonNestingExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonNestingExceeds('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(jsonNestingExceeds('{"a":"[[[[[[","b":"\\"[[[["}', 1)).toBe(false);
    expect(jsonNestingExceeds('['.repeat(100_000), 512)).toBe(true);
  });
});
