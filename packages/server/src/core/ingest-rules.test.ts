import { describe, expect, it } from 'vitest';
import { forwardableHeaders, redactIngestHeaders, sourceAddress, sourceAllowed } from './ingest-rules.js';
import { parseCidrList } from './ip-policy.js';

describe('ingest rules', () => {
  it('forwards all but hop-by-hop, credentials, re-signed and x-hookbridge-* headers', () => {
    const out = forwardableHeaders(
      { 'Content-Type': 'application/json', connection: 'keep-alive', host: 'x', 'content-length': '3', 'x-hub-signature-256': 's', 'webhook-id': 'i', 'x-hookbridge-event-type': 'spoof', 'x-github-event': 'push' },
      ['x-hub-signature-256'],
    );
    expect(out).toEqual({ 'content-type': 'application/json', 'x-github-event': 'push' });
  });

  it('redacts credentials and authorization in rejection logs, keeps the names', () => {
    expect(redactIngestHeaders({ authorization: 'Bearer t', 'x-sig': 'abc', a: 'b' }, ['x-sig'])).toEqual({ authorization: '[redacted]', 'x-sig': '[redacted]', a: 'b' });
  });

  it('believes X-Forwarded-For only hop by hop through trusted proxies', () => {
    const proxies = parseCidrList('10.0.0.0/8');
    expect(sourceAddress('127.0.0.1', '1.2.3.4', parseCidrList(''))).toBe('127.0.0.1');
    expect(sourceAddress('10.0.0.5', '1.2.3.4', proxies)).toBe('1.2.3.4');
    // A client-written entry left of an untrusted hop is not believed.
    expect(sourceAddress('10.0.0.5', '9.9.9.9, 1.2.3.4', proxies)).toBe('1.2.3.4');
    expect(sourceAddress('10.0.0.5', '9.9.9.9, 10.0.0.7', proxies)).toBe('9.9.9.9');
    expect(sourceAddress('::ffff:127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
    expect(sourceAddress('10.0.0.5', 'garbage', proxies)).toBe('10.0.0.5');
  });

  it('allows any source without allowed_cidrs, only listed ones with', () => {
    expect(sourceAllowed('8.8.8.8', null)).toBe(true);
    expect(sourceAllowed('8.8.8.8', parseCidrList('10.0.0.0/8'))).toBe(false);
    expect(sourceAllowed('10.1.1.1', parseCidrList('10.0.0.0/8'))).toBe(true);
  });
});
