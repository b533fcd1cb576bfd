/**
 * Receiving Stripe webhooks: an inbound endpoint made from the Stripe preset in the UI, its ingest
 * URL copied from the page, a Stripe-signed event posted to it (signed by the stripe library)
 * shows up among the events and is forwarded; an unsigned post shows up among the rejections
 * with its reason code.
 */
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, nav, signIn, useBrowserTest } from './harness';

const STRIPE_SECRET = 'whsec_browser_test_0123456789abcdef';
const stripe = new Stripe('sk_test_unused');

describe.skipIf(!CHROMIUM)('inbound endpoint from the Stripe preset', () => {
  const t = useBrowserTest('inbound-stripe', { permissions: ['clipboard-read', 'clipboard-write'] });

  it('creates it, takes a signed event, lists an unsigned one as rejected', async () => {
    const { hb, receiver: service, page, errors, shot } = t;
    await signIn(page, hb.url, hb.adminKey);
    await nav(page, 'Inbound');
    await shot(page, 'inbound-empty');
    await page.getByRole('button', { name: 'New inbound endpoint' }).first().click();
    await page.getByLabel('Provider').selectOption('stripe');
    await page.getByLabel('Name').fill('stripe-payments');
    await page.getByLabel('Mode').selectOption('forward');
    await page.getByLabel('Destination URL').fill(service.url);
    await page.getByLabel('Signing secret').fill(STRIPE_SECRET);
    await shot(page, 'stripe-form');
    await page.getByRole('button', { name: 'Create inbound endpoint' }).click();

    await page.getByRole('heading', { name: 'Ingest URL' }).waitFor();
    const shown = (await page.getByTestId('ingest-url').textContent())!.trim();
    expect(shown).toMatch(new RegExp(`^${hb.url}/in/in_`));
    // What the copy button puts on the clipboard is what a user pastes into Stripe's dashboard.
    await page.getByRole('button', { name: 'Copy ingest URL' }).click();
    const ingestUrl = await page.evaluate(() => navigator.clipboard.readText());
    expect(ingestUrl).toBe(shown);
    // Hookbridge's own secret for the re-signed forward, shown once.
    const forwardSecret = (await page.getByTestId('secret-value').textContent())!.trim();
    expect(forwardSecret).toMatch(/^whsec_/);
    await shot(page, 'created');

    const payload = JSON.stringify({ id: 'evt_browser_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', amount: 4200 } } });
    const signed = await fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }) },
      body: payload,
    });
    expect(signed.status, await signed.text()).toBeLessThan(300);
    const [forwarded] = await service.waitForRequests(1);
    expect(forwarded.body).toBe(payload);
    expect(new Webhook(forwardSecret).verify(forwarded.body, forwarded.headers as Record<string, string>)).toMatchObject({ id: 'evt_browser_1' });

    const events = page.getByRole('table', { name: 'Inbound events' });
    await events.getByRole('row').filter({ hasText: 'payment_intent.succeeded' }).waitFor();
    await shot(page, 'event-received');

    const unsigned = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: { code: 'missing_signature' } });
    const rejections = page.getByRole('table', { name: 'Rejections' });
    await rejections.getByRole('row').filter({ hasText: 'missing_signature' }).waitFor();
    await page.getByRole('heading', { name: 'Rejections' }).scrollIntoViewIfNeeded();
    await shot(page, 'rejection');
    // Refused requests are never forwarded.
    expect(service.requests).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
