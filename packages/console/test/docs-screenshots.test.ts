/**
 * The README's pictures: the dashboard with some traffic in it, and one delivery's attempt
 * timeline (a receiver that failed twice, then took it), at 1280x800 in the light theme. Kept in
 * test-results/screenshots/docs/ on every run; `npm run screenshots -w packages/console` (which
 * sets HOOKBRIDGE_UPDATE_DOCS_SCREENSHOTS=1) also copies them to docs/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, expectStatus, nav, REPO, signIn, sleep, useBrowserTest, waitUntil, type BrowserTest } from './harness';

const UPDATE_DOCS = process.env.HOOKBRIDGE_UPDATE_DOCS_SCREENSHOTS === '1';
const DOCS = path.join(REPO, 'docs/screenshots');

describe.skipIf(!CHROMIUM)('screenshots for the docs', () => {
  let flakyDelivery = '';
  let flakyCalls = 0;
  const t = useBrowserTest('docs', {
    receivers: [
      undefined, // healthy
      undefined, // down
      // flaky: answers 503, then 500, then takes it: a timeline with all three outcomes.
      (_req, res) => {
        flakyCalls++;
        if (flakyCalls === 1) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"maintenance, back in a moment"}');
        else if (flakyCalls === 2) res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream timeout talking to the billing service');
        else return false;
        return true;
      },
    ],
    setup: traffic,
    timeoutMs: UPDATE_DOCS ? 360_000 : 60_000,
  });

  /** The traffic the pictures show, sent through the API before the test. */
  async function traffic({ hb, receivers: [healthy, down, flaky] }: BrowserTest): Promise<void> {
    down.answer.status = 500;
    down.answer.body = 'internal error';
    const make = async (url: string, fields: Record<string, unknown>) => expectStatus(await hb.api('POST', '/endpoints', { url, ...fields }), 201, 'endpoint').id as string;
    const shop = await make(`${healthy.url}/shop`, { event_types: ['order.paid', 'order.shipped', 'invoice.created'], description: 'shop backend', consumer_id: 'acme' });
    await make(`${healthy.url}/crm`, { event_types: ['customer.created', 'order.paid'], description: 'CRM sync', consumer_id: 'globex' });
    const billing = await make(flaky.url, { event_types: ['invoice.created'], retry_schedule: [1, 1], description: 'billing', consumer_id: 'initech' });
    await make(`${down.url}/legacy`, { event_types: ['order.paid', 'order.shipped'], retry_schedule: [1], description: 'legacy ERP', consumer_id: 'umbrella' });
    const sends = [
      ...Array.from({ length: 14 }, (_, i) => ({ event_type: 'order.paid', payload: { order_id: `o_${1000 + i}`, amount: 1999 + i * 100, currency: 'eur' }, broadcast: true })),
      ...Array.from({ length: 6 }, (_, i) => ({ event_type: 'order.shipped', payload: { order_id: `o_${1000 + i}`, carrier: 'dhl' }, broadcast: true })),
      ...Array.from({ length: 5 }, (_, i) => ({ event_type: 'customer.created', payload: { customer_id: `c_${200 + i}` }, broadcast: true })),
    ];
    // For the docs, the traffic comes in waves a minute apart, so the per-minute charts have a shape.
    const waves = UPDATE_DOCS ? 5 : 1;
    for (let w = 0; w < waves; w++) {
      if (w > 0) await sleep(60_000);
      const wave = waves === 1 ? sends : sends.filter((_, i) => (i * 7 + w * 3) % 5 < 2 + (w % 3));
      for (const body of wave) expectStatus(await hb.api('POST', '/messages', body), 202, 'send');
    }
    const invoice = expectStatus(await hb.api('POST', '/messages', { event_type: 'invoice.created', payload: { invoice_id: 'in_1042', amount_due: 4200, currency: 'eur' }, endpoint_id: billing }), 202, 'send');
    expectStatus(await hb.api('POST', '/messages', { event_type: 'invoice.created', payload: { invoice_id: 'in_1043', amount_due: 990, currency: 'eur' }, endpoint_id: shop }), 202, 'send');
    await waitUntil(
      async () => {
        const d = (await hb.api('GET', `/deliveries?message_id=${invoice.id}`)).body.data[0];
        flakyDelivery = d?.id ?? '';
        return d?.status === 'succeeded';
      },
      20_000,
      'the flaky delivery to succeed on its third attempt',
    );
    await waitUntil(async () => (await hb.api('GET', '/deliveries?status=pending_retry')).body.data.length === 0, 20_000, 'the retries to end');
  }

  it('takes the dashboard and an attempt timeline at 1280x800', async () => {
    const { hb, page, errors, shot } = t;
    await signIn(page, hb.url, hb.adminKey);
    await nav(page, 'Dashboard');
    await page.getByRole('heading', { name: 'Volume' }).waitFor();
    await page.getByRole('heading', { name: 'Endpoints failing most' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await page.getByText('legacy', { exact: false }).first().waitFor();
    // Let the charts settle (uPlot draws on the next frame).
    await page.waitForTimeout(500);
    const dashboard = await shot(page, 'dashboard');

    await page.goto(`${hb.url}/#/deliveries/${flakyDelivery}`);
    const attempts = page.getByRole('list', { name: 'Attempts' });
    await expect.poll(() => attempts.getByRole('listitem').count()).toBe(3);
    await page.locator('.facts').getByText('succeeded').waitFor();
    await expect.poll(() => page.locator('pre[aria-label="Request headers"]').textContent()).toMatch(/^POST http/);
    await page.getByRole('heading', { name: 'Request headers' }).evaluate((h) => h.scrollIntoView({ block: 'start' }));
    const timeline = path.join(path.dirname(dashboard), 'delivery-attempts.png');
    await page.screenshot({ path: timeline });
    expect(errors).toEqual([]);

    // The dashboard one is also a viewport shot (the fixed size the README shows).
    await page.goto(`${hb.url}/#/`);
    await page.getByRole('group', { name: 'Time window' }).getByRole('button', { name: '1 h' }).click();
    await page.locator('.chart canvas').first().waitFor();
    await page.waitForTimeout(500);
    const dashboardView = path.join(path.dirname(dashboard), 'dashboard.png');
    await page.screenshot({ path: dashboardView });
    if (UPDATE_DOCS) {
      fs.mkdirSync(DOCS, { recursive: true });
      fs.copyFileSync(dashboardView, path.join(DOCS, 'dashboard.png'));
      fs.copyFileSync(timeline, path.join(DOCS, 'delivery-attempts.png'));
      console.log(`docs screenshots updated in ${DOCS}`);
    }
  });
});
