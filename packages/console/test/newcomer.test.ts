/**
 * A newcomer's first minutes: sign in with the admin key the server printed, create an endpoint
 * to a loopback receiver, send a test event, see it arrive (signed with the secret shown once),
 * open the delivery's attempts and replay it.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, nav, signIn, useBrowserTest } from './harness';

describe.skipIf(!CHROMIUM)('newcomer path', () => {
  const t = useBrowserTest('newcomer');

  it('signs in, creates an endpoint, sends a test event, sees it delivered, replays it', async () => {
    const { hb, receiver, page, errors, shot } = t;
    await page.goto(`${hb.url}/`);
    await page.getByLabel('API key').waitFor();
    await shot(page, 'sign-in');
    await signIn(page, hb.url, hb.adminKey);
    // The key lives in session storage, never in the URL.
    expect(page.url()).not.toContain(hb.adminKey);
    // The empty dashboard tells the next step, with the command to copy.
    const empty = page.getByRole('region', { name: 'Nothing sent yet' });
    await expect(empty.textContent()).resolves.toContain('hookbridge endpoints create --url');
    await expect(empty.getByRole('button', { name: 'Copy command' }).count()).resolves.toBeGreaterThan(0);
    await shot(page, 'dashboard-empty');

    await nav(page, 'Endpoints');
    await page.getByRole('link', { name: 'New endpoint' }).or(page.getByRole('button', { name: 'New endpoint' })).first().click();
    await page.getByLabel('URL', { exact: true }).fill(receiver.url);
    await page.getByLabel('Event types').fill('order.paid');
    await page.getByLabel('Description').fill('my first endpoint');
    await shot(page, 'endpoint-form');
    await page.getByRole('button', { name: 'Create endpoint' }).click();

    // The detail page shows the signing secret once.
    const secret = (await page.getByTestId('secret-value').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await shot(page, 'endpoint-created-secret');

    await page.getByRole('button', { name: 'Send test event' }).click();
    const [request] = await receiver.waitForRequests(1);
    // The receiver can verify it with the secret it was shown, by the Standard Webhooks library.
    const verified = new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as { test?: boolean };
    expect(verified).toBeTypeOf('object');
    expect(request.headers['webhook-id']).toMatch(/^msg_/);
    await shot(page, 'test-event-sent');

    await page.getByRole('link', { name: 'View deliveries' }).click();
    const row = page.getByRole('row').filter({ hasText: 'order.paid' });
    await row.getByText('succeeded').waitFor();
    await shot(page, 'deliveries');
    await row.getByRole('link', { name: 'order.paid' }).click();

    await page.getByRole('heading', { name: /Delivery dlv_/ }).waitFor();
    await page.getByRole('heading', { name: 'Payload' }).waitFor();
    const attempts = page.getByRole('list', { name: 'Attempts' });
    await expect.poll(() => attempts.getByRole('listitem').count()).toBe(1);
    await expect(attempts.getByRole('listitem').first().textContent()).resolves.toMatch(/HTTP 200[\s\S]*\d+ ms/);
    // The request headers shown are the ones the receiver got (recorded by the attempt).
    const sentHeaders = page.locator('pre[aria-label="Request headers"]');
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-hookbridge-request-id']) {
      await expect(sentHeaders.textContent()).resolves.toContain(`${name}: ${request.headers[name]}`);
    }
    await shot(page, 'delivery-attempts');

    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await receiver.waitForRequests(2);
    // A replay is the same message again: same webhook-id, a second attempt in the timeline.
    expect(receiver.requests[1].headers['webhook-id']).toBe(request.headers['webhook-id']);
    await expect.poll(() => attempts.getByRole('listitem').count(), { timeout: 15_000 }).toBe(2);
    await page.locator('.facts').getByText('succeeded').waitFor();
    await expect(page.locator('.facts').textContent()).resolves.toMatch(/Replays\s*1/);
    await page.getByRole('heading', { name: 'Attempts' }).scrollIntoViewIfNeeded();
    await shot(page, 'replayed');
    expect(errors).toEqual([]);
  });

  it('updates the dashboard live: a message sent meanwhile shows without reloading', async () => {
    const { hb, page, errors } = t;
    await nav(page, 'Dashboard');
    const messages = page.locator('.card').filter({ has: page.locator('.label', { hasText: /^Messages$/ }) }).locator('.value');
    const before = Number(await messages.textContent());
    expect(before).toBeGreaterThan(0);
    const endpoint = (await hb.api('GET', '/endpoints')).body.data[0].id;
    expect((await hb.api('POST', '/messages', { event_type: 'order.paid', payload: { live: true }, endpoint_id: endpoint })).status).toBe(202);
    await expect.poll(async () => Number(await messages.textContent()), { timeout: 15_000 }).toBe(before + 1);
    expect(errors).toEqual([]);
  });
});
