import { describe, expect, it } from 'vitest';
import { colorsFor } from './output.js';

// The CLI tests run the CLI with stdout piped, where colours are off anyway; this is the rule itself.
describe('colorsFor', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  it('colours a terminal, and nothing else', () => {
    expect(colorsFor(tty, {}).isColorSupported).toBe(true);
    expect(colorsFor(tty, {}).red('x')).toMatch(/\u001b\[/);
    expect(colorsFor(pipe, {}).isColorSupported).toBe(false);
    expect(colorsFor(pipe, { FORCE_COLOR: '1', CI: 'true' }).red('x')).toBe('x');
  });
  it('honours NO_COLOR and TERM=dumb on a terminal', () => {
    expect(colorsFor(tty, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(colorsFor(tty, { TERM: 'dumb' }).red('x')).toBe('x');
  });
});
