import { describe, expect, it } from 'vitest';
import { customHeaderProblems, endpointMatches } from './endpoint-rules.js';

describe('endpointMatches', () => {
  it('matches every type and channel when the endpoint has no filter', () => {
    expect(endpointMatches({ eventTypes: null, channels: null }, 'a.b', null)).toBe(true);
    expect(endpointMatches({ eventTypes: [], channels: [] }, 'a.b', ['x'])).toBe(true);
  });
  it('filters by event type', () => {
    expect(endpointMatches({ eventTypes: ['a.b'], channels: null }, 'a.b', null)).toBe(true);
    expect(endpointMatches({ eventTypes: ['a.b'], channels: null }, 'a.c', null)).toBe(false);
  });
  it('needs a shared channel when the endpoint lists channels', () => {
    const ep = { eventTypes: null, channels: ['eu', 'us'] };
    expect(endpointMatches(ep, 't', ['us'])).toBe(true);
    expect(endpointMatches(ep, 't', ['asia'])).toBe(false);
    expect(endpointMatches(ep, 't', null)).toBe(false);
  });
});

describe('customHeaderProblems', () => {
  it('refuses the redaction placeholder as a value, so a read sent back cannot overwrite a credential', () => {
    expect(customHeaderProblems({ Authorization: '[redacted]' })).toEqual(['header "Authorization" is "[redacted]", the placeholder reads show: send its real value']);
    expect(customHeaderProblems({ Authorization: 'Bearer [redacted]' })).toEqual([]);
  });
  it('allows ordinary headers and refuses reserved ones', () => {
    expect(customHeaderProblems({ 'X-Api-Key': 'abc', Authorization: 'Bearer x' })).toEqual([]);
    for (const h of ['Host', 'Content-Type', 'content-length', 'webhook-id', 'X-Webhook-Signature', 'Connection', 'Transfer-Encoding', 'User-Agent', 'bad name']) {
      expect(customHeaderProblems({ [h]: 'v' })).toHaveLength(1);
    }
    expect(customHeaderProblems({ 'X-A': 'line\r\nbreak' })).toHaveLength(1);
    expect(customHeaderProblems({ 'X-A': 'café 😀' })).toHaveLength(1);
    expect(customHeaderProblems({ 'X-A': 'Bearer abc.DEF-123_~+/=' })).toEqual([]);
  });
});
