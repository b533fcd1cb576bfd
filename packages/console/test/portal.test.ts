/**
 * The consumer portal: a link made in the Portal view opens, in a fresh browser, the app scoped to
 * consumer A: A's endpoints only (create, pause, rotate), A's deliveries, the project's brand; the
 * API itself refuses B's endpoint to A's token (404). The portal can be framed only by the origins
 * in the project's portal_frame_ancestors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, collectPageErrors, expectStatus, nav, signIn, useBrowserTest, waitUntil, type BrowserTest } from './harness';

const BRAND = 'Acme Webhooks';

/** A page on its own loopback origin that embeds `src` in an iframe. */
async function startEmbedder(src: () => string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>embedder</title><h1>Our app</h1><iframe title="webhooks" src="${src()}" width="1000" height="600"></iframe>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(!CHROMIUM)('consumer portal', () => {
  let consumer: BrowserContext;
  let portal: Page;
  let portalUrl = '';
  let allowed: Awaited<ReturnType<typeof startEmbedder>>;
  let stranger: Awaited<ReturnType<typeof startEmbedder>>;
  const ids = { a: '', b: '', project: '' };
  // The page (the admin's) signs in; `portal`, in a context of its own, is consumer A's.
  const t = useBrowserTest('portal', { receivers: 2, setup: twoConsumers });
  const shot = t.shot;

  /** Consumers A and B with an endpoint and a delivery each; two embedding pages; the project branded. */
  async function twoConsumers({ hb, receivers: [receiverA, receiverB], onClose }: BrowserTest): Promise<void> {
    [allowed, stranger] = await Promise.all([startEmbedder(() => portalUrl), startEmbedder(() => portalUrl)]);
    onClose(allowed.close);
    onClose(stranger.close);
    ids.a = expectStatus(await hb.api('POST', '/endpoints', { url: `${receiverA.url}/a-orders`, consumer_id: 'consumer-a', event_types: ['order.paid'] }), 201, 'A endpoint').id;
    ids.b = expectStatus(await hb.api('POST', '/endpoints', { url: `${receiverB.url}/b-orders`, consumer_id: 'consumer-b', event_types: ['order.paid'] }), 201, 'B endpoint').id;
    // One message to all endpoints: a delivery each.
    expectStatus(await hb.api('POST', '/messages', { event_type: 'order.paid', payload: { order: 1 }, broadcast: true }), 202, 'message');
    await Promise.all([receiverA.waitForRequests(1), receiverB.waitForRequests(1)]);
    ids.project = expectStatus(await hb.api('GET', '/projects'), 200, 'projects').data[0].id;
    expectStatus(
      await hb.api('PATCH', `/projects/${ids.project}`, { portal_brand_name: BRAND, portal_brand_color: '#b4235a', portal_frame_ancestors: [allowed.origin] }),
      200,
      'brand the project',
    );
  }

  it('makes a portal link in the Portal view', async () => {
    const { hb, page, errors } = t;
    await signIn(page, hb.url, hb.adminKey);
    await nav(page, 'Portal');
    await page.getByLabel('Consumer ID').fill('consumer-a');
    await page.getByLabel('Valid for (minutes)').fill('30');
    await expect(page.getByLabel('Read only').isChecked()).resolves.toBe(false);
    await page.getByRole('button', { name: 'Create portal link' }).click();
    portalUrl = (await page.getByTestId('portal-url').textContent())!.trim();
    expect(portalUrl).toMatch(new RegExp(`^${hb.url}/portal/${ids.project}#token=`));
    await shot(page, 'portal-link');
    expect(errors).toEqual([]);
  });

  it("shows consumer A only A's endpoints and deliveries, under the project's brand", async () => {
    const [receiverA, receiverB] = t.receivers;
    consumer = await t.newContext();
    portal = await consumer.newPage();
    const portalErrors = collectPageErrors(portal);
    await portal.goto(portalUrl);
    await portal.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect(portal.locator('.topbar .brand').textContent()).resolves.toContain(BRAND);
    await expect(portal.title()).resolves.toContain(BRAND);
    // The token left the address bar.
    expect(portal.url()).not.toContain('token=');
    const links = await portal.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Endpoints', 'Deliveries']);
    await portal.getByText(`${receiverA.url}/a-orders`).first().waitFor();
    await expect(portal.getByText(`${receiverB.url}/b-orders`).count()).resolves.toBe(0);
    await shot(portal, 'portal-endpoints');

    await nav(portal, 'Deliveries');
    const table = portal.getByRole('table', { name: 'Deliveries' });
    await table.getByRole('row').filter({ hasText: 'order.paid' }).first().waitFor();
    await expect(table.getByRole('row').filter({ hasText: 'order.paid' }).count()).resolves.toBe(1);
    await expect(table.textContent()).resolves.not.toContain('b-orders');
    await shot(portal, 'portal-deliveries');
    expect(portalErrors).toEqual([]);
  });

  it("lets A create, pause and rotate A's endpoint; the API refuses B's to A's token", async () => {
    const { hb, receivers: [receiverA] } = t;
    await nav(portal, 'Endpoints');
    await portal.getByRole('link', { name: 'New endpoint' }).or(portal.getByRole('button', { name: 'New endpoint' })).first().click();
    // The consumer is the session's: the form does not ask for one.
    await expect(portal.getByLabel('Consumer ID').count()).resolves.toBe(0);
    await portal.getByLabel('URL', { exact: true }).fill(`${receiverA.url}/a-second`);
    await portal.getByLabel('Event types').fill('order.paid, order.refunded');
    await portal.getByRole('button', { name: 'Create endpoint' }).click();
    const firstSecret = (await portal.getByTestId('secret-value').textContent())!.trim();
    expect(firstSecret).toMatch(/^whsec_/);
    await shot(portal, 'portal-endpoint-created');
    const created = expectStatus(await hb.api('GET', '/endpoints?consumer_id=consumer-a'), 200, 'list').data.find((e: { url: string }) => e.url.endsWith('/a-second'));
    expect(created).toMatchObject({ consumer_id: 'consumer-a', event_types: ['order.paid', 'order.refunded'] });

    await portal.getByRole('button', { name: 'Pause' }).click();
    await portal.getByRole('button', { name: 'Resume' }).waitFor();
    await waitUntil(async () => (await hb.api('GET', `/endpoints/${created.id}`)).body.status === 'paused', 5000, 'the endpoint to be paused');
    await shot(portal, 'portal-paused');

    await portal.getByRole('button', { name: 'Rotate secret' }).click();
    await portal.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    const rotated = (await portal.locator('.secret-once').filter({ hasText: 'New signing secret' }).getByTestId('secret-value').textContent())!.trim();
    expect(rotated).not.toBe(firstSecret);
    expect(rotated).toMatch(/^whsec_/);
    await shot(portal, 'portal-rotated');

    // The scope is the API's: A's token gets 404 for B's endpoint, whatever the UI shows.
    const token = /#token=([^&]+)$/.exec(portalUrl)![1];
    expect((await hb.api('GET', `/endpoints/${ids.b}`, undefined, token)).status).toBe(404);
    expect((await hb.api('PATCH', `/endpoints/${ids.b}`, { description: 'mine now' }, token)).status).toBe(404);
    expect((await hb.api('POST', `/endpoints/${ids.b}/pause`, undefined, token)).status).toBe(404);
    const listed = expectStatus(await hb.api('GET', '/endpoints', undefined, token), 200, 'portal list').data as { consumer_id: string }[];
    expect(listed.length).toBe(2);
    expect(listed.every((e) => e.consumer_id === 'consumer-a')).toBe(true);
    expect(expectStatus(await hb.api('GET', `/endpoints/${ids.b}`), 200, 'admin reads B').status).toBe('active');
  });

  it('can be framed by an origin in portal_frame_ancestors only', async () => {
    const framed = async (origin: string): Promise<Frame> => {
      const p = await consumer.newPage();
      await p.goto(`${origin}/`);
      await p.getByRole('heading', { name: 'Our app' }).waitFor();
      await waitUntil(() => p.frames().length > 1, 5000, 'the iframe');
      return p.frames()[1];
    };
    const inside = await framed(allowed.origin);
    await inside.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect(inside.locator('.topbar .brand').textContent()).resolves.toContain(BRAND);
    await shot(inside.page(), 'framed-allowed');

    const refused = await framed(stranger.origin);
    // Chromium refuses the frame by the page's CSP (and shows its error page there): the app never runs.
    await waitUntil(() => refused.url().startsWith('chrome-error:'), 10_000, `chromium to refuse the frame (at ${refused.url()})`);
    expect(await refused.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(refused.url()).not.toContain('/portal/');
    await shot(refused.page(), 'framed-refused');
  });
});
