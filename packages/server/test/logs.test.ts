/** DESIGN §7: logs never contain secrets, API keys or Authorization values. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Receiver, useServer, waitForDelivery } from './helpers.js';

const lines: string[] = [];
const t = useServer({ HOOKBRIDGE_LOG_LEVEL: 'trace' }, { logLines: lines });
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

describe('logs', () => {
  it('never contain keys, signing secrets or receiver credentials, even at trace level', async () => {
    const project = (await t.api.post('/v1/projects', { name: 'logs' })).body;
    const key = (await t.api.post(`/v1/projects/${project.id}/api-keys`)).body.key as string;
    const ep = (await t.api.post('/v1/endpoints', { url: r.url, headers: { Authorization: 'Bearer receiver-credential-xyz' } })).body;
    const rotated = (await t.api.post(`/v1/endpoints/${ep.id}/secret/rotate`, { grace_seconds: 60 })).body.signing_secret as string;
    const m = (await t.api.post('/v1/messages', { event_type: 'l.t', payload: { a: 1 }, endpoint_id: ep.id })).body;
    await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded']);
    // errors are logged too: a request that fails validation, and one with a bad key
    await t.api.post('/v1/endpoints', { url: 5 });
    await t.api.withKey('hb_live_not_a_real_key_but_secretish').get('/v1/endpoints');
    await t.api.withKey(key).get('/v1/endpoints');

    const all = lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [ADMIN_KEY, key, ep.signing_secret, rotated, 'receiver-credential-xyz', 'hb_live_not_a_real_key_but_secretish']) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(8, 30));
    }
  });
});
