import { describe, expect, it } from 'vitest';
import { nonePreset } from './none.js';
import type { IngestRequest } from './types.js';

const req = (headers: Record<string, string>, query: Record<string, string> = {}, body: Buffer = Buffer.from('{}')): IngestRequest => ({
  body,
  headers,
  query,
  now: 1_700_000_000_000,
});

describe('none preset', () => {
  it('accepts everything and carries no credentials', () => {
    expect(nonePreset.verify({ type: 'none' }, req({}))).toEqual({ ok: true });
    expect(nonePreset.verify({ type: 'none' }, req({ authorization: 'garbage' }, {}, Buffer.from([0xff])))).toEqual({ ok: true });
    expect(nonePreset.credentialHeaders({ type: 'none' })).toEqual([]);
    expect(nonePreset.credentialQuery({ type: 'none' })).toEqual([]);
    expect(nonePreset.eventId({ type: 'none' }, req({}))).toBeNull();
  });
});
