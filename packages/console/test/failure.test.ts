/**
 * The failure path: a receiver answering 500 makes deliveries fail for good (a one-retry schedule);
 * the attempt timeline shows each 500 with the response excerpt; once the receiver is fixed, the
 * failed deliveries are found by the status filter and replayed in bulk after a confirmation that
 * counts them, and they succeed.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM, expectStatus, nav, signIn, startReceiver, useBrowserTest, waitUntil } from './harness';

const FAILURES = 3;

describe.skipIf(!CHROMIUM)('failure path', () => {
  const t = useBrowserTest('failure');

  it('shows the 500s in the timeline, then replays the failed deliveries in bulk once fixed', async () => {
    const { hb, receiver, page, errors, shot } = t;
    receiver.answer.status = 500;
    receiver.answer.body = 'database is down: orders service unavailable';
    // One retry a second after the first attempt, then failed for good.
    const ep = expectStatus(await hb.api('POST', '/endpoints', { url: receiver.url, retry_schedule: [1], description: 'orders' }), 201, 'create endpoint');
    // A succeeded delivery too, so that the status filter visibly narrows the list.
    const other = await startReceiver();
    const okEp = expectStatus(await hb.api('POST', '/endpoints', { url: other.url }), 201, 'create endpoint');
    expectStatus(await hb.api('POST', '/messages', { event_type: 'invoice.paid', payload: { ok: true }, endpoint_id: okEp.id }), 202, 'send');
    for (let i = 0; i < FAILURES; i++) {
      expectStatus(await hb.api('POST', '/messages', { event_type: 'invoice.created', payload: { invoice: `in_${i}` }, endpoint_id: ep.id }), 202, 'send');
    }
    await waitUntil(async () => (await hb.api('GET', `/deliveries?status=failed&endpoint_id=${ep.id}`)).body.data.length === FAILURES, 20_000, 'the deliveries to fail');
    expect(receiver.requests).toHaveLength(FAILURES * 2);

    await signIn(page, hb.url, hb.adminKey);
    await nav(page, 'Deliveries');
    const table = page.getByRole('table', { name: 'Deliveries' });
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'invoice.created' }).count()).toBe(FAILURES);
    await shot(page, 'deliveries-failed');

    // The timeline of one: two attempts, each a 500 with what the receiver said.
    await table.getByRole('row').filter({ hasText: 'invoice.created' }).first().getByRole('link', { name: 'invoice.created' }).click();
    const attempts = page.getByRole('list', { name: 'Attempts' });
    await expect.poll(() => attempts.getByRole('listitem').count()).toBe(2);
    for (const item of await attempts.getByRole('listitem').all()) {
      const text = (await item.textContent())!;
      expect(text).toContain('HTTP 500');
      expect(text).toContain('database is down: orders service unavailable');
      expect(text).toMatch(/\d+ ms/);
    }
    await expect(attempts.getByRole('listitem').last().textContent()).resolves.toContain('failed');
    await expect(page.locator('.facts').textContent()).resolves.toContain('failed');
    await shot(page, 'attempts-500');

    // Fixed; find what failed and replay it all.
    receiver.answer.status = 200;
    receiver.answer.body = 'ok';
    await nav(page, 'Deliveries');
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => page.url()).toContain('status=failed');
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'invoice.paid' }).count()).toBe(0);
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'invoice.created' }).count()).toBe(FAILURES);
    await shot(page, 'filtered-failed');

    await page.getByRole('button', { name: 'Replay matching' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`${FAILURES} deliveries`).first().waitFor();
    const confirm = dialog.getByRole('button', { name: new RegExp(`^Replay ${FAILURES} deliveries$`) });
    await expect(confirm.isEnabled()).resolves.toBe(true);
    await shot(page, 'bulk-replay-confirm');
    await confirm.click();
    await page.getByRole('status').filter({ hasText: `Replayed ${FAILURES}` }).waitFor();

    await receiver.waitForRequests(FAILURES * 3);
    await waitUntil(async () => (await hb.api('GET', `/deliveries?status=succeeded&endpoint_id=${ep.id}`)).body.data.length === FAILURES, 15_000, 'the replays to succeed');
    await page.getByLabel('Status').selectOption('succeeded');
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'invoice.created' }).filter({ hasText: 'succeeded' }).count(), { timeout: 15_000 }).toBe(FAILURES);
    await shot(page, 'replayed-succeeded');
    await other.close();
    expect(errors).toEqual([]);
  });
});
