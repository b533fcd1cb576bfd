/**
 * Endpoints that hang must not starve healthy ones: each endpoint starts at a quarter of
 * HOOKBRIDGE_ENDPOINT_CONCURRENCY and earns more only with answers (core/concurrency-limit.ts), so
 * a few hanging endpoints cannot take every worker slot even before their first timeout.
 */
import { expect, it } from 'vitest';
import { sleep, useServer, waitForDelivery } from './helpers.js';

// 4 hanging endpoints × the cap of 16 would be twice the worker's 32 slots.
const t = useServer({ HOOKBRIDGE_WORKER_CONCURRENCY: '32', HOOKBRIDGE_ENDPOINT_CONCURRENCY: '16', HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '0' });

it('delivers to a healthy endpoint while others hang with their slots full', async () => {
  const hang = await t.receiver();
  hang.handle(() => {}); // never answers
  const hanging = [];
  for (let i = 0; i < 4; i++) hanging.push(await t.endpoint(`${hang.url}?n=${i}`, { timeout_ms: 30_000 }));
  for (const ep of hanging) for (let i = 0; i < 20; i++) await t.send(ep.id, { i });
  await hang.waitForRequests(16);
  await sleep(300);
  expect(hang.requests).toHaveLength(16); // 4 per hanging endpoint, not 16

  const healthy = await t.receiver();
  const ep = await t.endpoint(healthy.url);
  const msgs = [];
  for (let i = 0; i < 40; i++) msgs.push(await t.send(ep.id, { i }));
  await healthy.waitForRequests(40, 10_000); // long before any hanging request times out
  await waitForDelivery(t.api, msgs[39].deliveries[0].id, ['succeeded']);
  expect(hang.requests).toHaveLength(16);
});
