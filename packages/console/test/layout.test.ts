/**
 * What docs/console.md promises of the console's layout: "works from 375 px wide, with the keyboard
 * alone, and follows the system's light or dark theme". At 375x812 in the dark theme every view of
 * the navigation (and an endpoint's and a delivery's detail) fits without sideways page scroll; the
 * body's background is dark there and light in a light context; sign-in, navigation and the delete
 * confirmation work from the keyboard alone; every control of the endpoint form has a name.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, collectPageErrors, expectStatus, nav, signIn, useBrowserTest, waitUntil, type BrowserTest } from './harness';

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true } as const;

/** WCAG relative luminance of a computed colour ("rgb(r, g, b)" / "rgba(…)"). */
function luminance(css: string): number {
  const m = /rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/.exec(css);
  if (!m) throw new Error(`not an rgb() colour: ${css}`);
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const bodyBackground = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

/**
 * The page scrolls sideways when its content is wider than the viewport: name what sticks out past
 * `width`. (A mobile browser would rather widen its layout viewport to fit the content and zoom
 * out, so innerWidth is measured too.)
 */
async function sidewaysOverflow(page: Page, width: number): Promise<{ scrollWidth: number; innerWidth: number; widest: string[] }> {
  return page.evaluate((width) => {
    const widest: string[] = [];
    // What a scrolling (or clipping) box holds, like the nav row, does not widen the page.
    const clipped = (el: HTMLElement) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return true;
      return false;
    };
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 0.5 && widest.length < 8 && !clipped(el)) widest.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).replace(/\s+/g, '.')}` : ''} right=${Math.round(r.right)}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, widest };
  }, width);
}

/** What the focused element is, for keyboard steps: "a Endpoints", "input#api-key". */
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    if (!e || e === document.body) return 'body';
    return `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} ${(e.textContent ?? '').trim().slice(0, 60)}`.trim();
  });

/** Presses Tab until `check` holds for the focused element (at most `max` times). */
async function tabTo(page: Page, what: string, check: () => boolean, max = 40): Promise<void> {
  const trail: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(check)) return;
    trail.push(await focused(page));
  }
  throw new Error(`Tab never reached ${what} in ${max} presses; focus went: ${trail.join(' → ')}`);
}

describe.skipIf(!CHROMIUM)('layout: 375 px, keyboard alone, light and dark', () => {
  let endpointId = '';
  let deliveryId = '';
  const t = useBrowserTest('layout', { setup: traffic });

  /** Something in every list: an endpoint to the receiver, one delivered message, an event type, an inbound endpoint. */
  async function traffic({ hb, receiver }: BrowserTest): Promise<void> {
    const ep = expectStatus(
      await hb.api('POST', '/endpoints', { url: `${receiver.url}/orders/paid`, event_types: ['order.paid'], description: 'shop backend', consumer_id: 'acme' }),
      201,
      'create endpoint',
    );
    endpointId = ep.id;
    expectStatus(await hb.api('POST', '/event-types', { name: 'order.paid', description: 'An order was paid' }), 201, 'create event type');
    expectStatus(await hb.api('POST', '/inbound-endpoints', { name: 'stripe payments', mode: 'pull', verification: { type: 'none' } }), 201, 'create inbound endpoint');
    const msg = expectStatus(await hb.api('POST', '/messages', { event_type: 'order.paid', payload: { order_id: 'o_1001', amount: 4200, currency: 'eur' }, endpoint_id: ep.id }), 202, 'send');
    await receiver.waitForRequests(1);
    await waitUntil(
      async () => {
        const d = (await hb.api('GET', `/deliveries?message_id=${msg.id}`)).body.data[0];
        deliveryId = d?.id ?? '';
        return d?.status === 'succeeded';
      },
      15_000,
      'the delivery to succeed',
    );
  }

  it('fits every view in 375 px without sideways scroll, in the dark theme (and a light one)', async () => {
    const { hb, shot } = t;
    const context = await t.newContext({ ...PHONE, colorScheme: 'dark' });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${hb.url}/`);
    await page.getByLabel('API key').waitFor();

    const dark = luminance(await bodyBackground(page));
    expect(dark, 'body background in the dark theme').toBeLessThan(0.2);

    const fits = async (step: string, ready: Locator) => {
      await ready.waitFor();
      // Let late layout (charts draw on the next frame) settle before measuring.
      await page.waitForTimeout(250);
      await shot(page, `375-dark-${step}`);
      const width = PHONE.viewport.width;
      const o = await sidewaysOverflow(page, width);
      const why = `${step}: the page is ${o.scrollWidth} px wide (layout viewport ${o.innerWidth} px) on a ${width} px screen; sticking out: ${o.widest.join(', ') || 'nothing'}`;
      expect(o.scrollWidth, why).toBeLessThanOrEqual(o.innerWidth);
      expect(o.innerWidth, why).toBe(width);
    };
    const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

    await fits('sign-in', heading('Sign in to Hookbridge'));
    await signIn(page, hb.url, hb.adminKey);

    await nav(page, 'Dashboard');
    await page.getByRole('heading', { name: 'Volume' }).waitFor();
    await fits('dashboard', page.locator('.chart canvas').first());

    await nav(page, 'Endpoints');
    await fits('endpoints', page.getByRole('link', { name: /orders\/paid/ }).first());
    await page.getByRole('link', { name: /orders\/paid/ }).first().click();
    await fits('endpoint-detail', page.getByRole('heading', { name: 'Settings' }));
    expect(page.url()).toContain(`#/endpoints/${endpointId}`);

    await page.goto(`${hb.url}/#/endpoints/new`);
    await fits('endpoint-form', page.getByRole('button', { name: 'Create endpoint' }));

    await nav(page, 'Deliveries');
    const row = page.getByRole('row').filter({ hasText: 'order.paid' });
    await row.getByText('succeeded').waitFor();
    await fits('deliveries', row.first());
    await row.getByRole('link', { name: 'order.paid' }).first().click();
    await page.getByRole('list', { name: 'Attempts' }).getByRole('listitem').first().waitFor();
    await fits('delivery-detail', heading(`Delivery ${deliveryId}`));

    await nav(page, 'Inbound');
    await fits('inbound', page.getByRole('table', { name: 'Inbound endpoints' }).getByText('stripe payments'));

    await nav(page, 'Event types');
    await fits('event-types', page.getByRole('cell', { name: 'order.paid' }).first());

    await nav(page, 'API keys');
    await fits('api-keys', heading('API keys'));

    await nav(page, 'Portal');
    await fits('portal', heading('Consumer portal'));

    await nav(page, 'Projects');
    await fits('projects', heading('Projects'));
    expect(errors).toEqual([]);

    // The same page in a light context: a light background.
    const light = await t.newContext({ ...PHONE, colorScheme: 'light' });
    const lightPage = await light.newPage();
    await lightPage.goto(`${hb.url}/`);
    await lightPage.getByLabel('API key').waitFor();
    expect(luminance(await bodyBackground(lightPage)), 'body background in the light theme').toBeGreaterThan(0.8);
    await shot(lightPage, '375-light-sign-in');
  });

  it('signs in, navigates and cancels a delete with the keyboard alone', async () => {
    const { hb, page, errors, shot } = t;
    await page.goto(`${hb.url}/`);
    await page.getByLabel('API key').waitFor();

    await tabTo(page, 'the API key field', () => document.activeElement?.id === 'api-key');
    await page.keyboard.type(hb.adminKey);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await shot(page, 'keyboard-signed-in');

    await tabTo(page, 'the Endpoints link', () => {
      const e = document.activeElement;
      return e instanceof HTMLAnchorElement && e.closest('nav[aria-label=Main]') !== null && e.textContent?.trim() === 'Endpoints';
    });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Endpoints' }).waitFor();
    expect(page.url()).toMatch(/#\/endpoints$/);
    await page.getByRole('link', { name: /orders\/paid/ }).first().waitFor();
    await shot(page, 'keyboard-endpoints');

    // Into the endpoint's detail by its link in the list.
    await tabTo(page, "the endpoint's link", () => {
      const e = document.activeElement;
      return e instanceof HTMLAnchorElement && /orders\/paid/.test(e.textContent ?? '');
    });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(page.url()).toContain(`#/endpoints/${endpointId}`);

    await tabTo(page, 'the Delete button', () => {
      const e = document.activeElement;
      return e instanceof HTMLButtonElement && e.textContent?.trim() === 'Delete';
    });
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('dialog')?.open === true), `focus is in the dialog (it is on ${await focused(page)})`).toBe(true);
    // Tab stays inside the modal dialog.
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      const inside = await page.evaluate(() => document.activeElement?.closest('dialog') !== null || document.activeElement === document.body);
      expect(inside, `Tab ${i + 1} in the dialog left it for ${await focused(page)}`).toBe(true);
    }
    await shot(page, 'keyboard-delete-confirm');

    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    // Focus goes back where it was, so the keyboard user carries on from the Delete button.
    expect(await focused(page)).toBe('button Delete');
    expect(page.url()).toContain(`#/endpoints/${endpointId}`);
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(expectStatus(await hb.api('GET', `/endpoints/${endpointId}`), 200, 'the endpoint after Escape').id).toBe(endpointId);
    await shot(page, 'keyboard-delete-cancelled');
    expect(errors).toEqual([]);
  });

  it('names every control of the endpoint form', async () => {
    const { hb, page, errors } = t;
    // Signed in still when the keyboard test ran first (the key is in this tab's session storage).
    await page.goto(`${hb.url}/#/endpoints/new`);
    const keyField = page.getByLabel('API key');
    await keyField.or(page.getByRole('button', { name: 'Sign out' })).waitFor();
    if (await keyField.isVisible()) {
      await signIn(page, hb.url, hb.adminKey);
      await page.goto(`${hb.url}/#/endpoints/new`);
    }
    await page.getByRole('button', { name: 'Create endpoint' }).waitFor();

    const controls = await page.evaluate(() => {
      const text = (e: Element | null) => (e?.textContent ?? '').replace(/\s+/g, ' ').trim();
      const nameOf = (e: HTMLElement): string => {
        const label = e.getAttribute('aria-label')?.trim();
        if (label) return label;
        const by = e.getAttribute('aria-labelledby');
        if (by) return by.split(/\s+/).map((id) => text(document.getElementById(id))).join(' ').trim();
        const labels = (e as HTMLInputElement).labels;
        if (labels && labels.length) return Array.from(labels).map(text).join(' ').trim();
        if (e instanceof HTMLButtonElement || e instanceof HTMLAnchorElement) return text(e);
        return e.getAttribute('title')?.trim() ?? '';
      };
      return Array.from(document.querySelectorAll<HTMLElement>('main button, main input, main select, main textarea, main a[href], header button'))
        .filter((e) => e.checkVisibility())
        .map((e) => ({ control: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}`, name: nameOf(e) }));
    });
    // URL, consumer, description, event types, channels, headers, rate limit, timeout, retry schedule, 4xx retries, scheme, ordering.
    expect(controls.filter((c) => /^(input|select|textarea)/.test(c.control)).length).toBeGreaterThanOrEqual(12);
    expect(controls.filter((c) => c.name === ''), 'controls without an accessible name').toEqual([]);
    // The same names as Playwright's role queries see them.
    for (const name of ['URL', 'Consumer ID', 'Description', 'Event types', 'Channels', 'Headers', 'Rate limit (per second)', 'Timeout (ms)', 'Retry schedule (seconds)']) {
      await expect(page.getByRole(name === 'Rate limit (per second)' || name === 'Timeout (ms)' ? 'spinbutton' : 'textbox', { name, exact: true }).count(), name).resolves.toBe(1);
    }
    await expect(page.getByRole('checkbox', { name: 'Retry client errors (4xx)' }).count()).resolves.toBe(1);
    await expect(page.getByRole('combobox', { name: 'Signature scheme' }).count()).resolves.toBe(1);
    await expect(page.getByRole('combobox', { name: 'Ordering' }).count()).resolves.toBe(1);
    expect(errors).toEqual([]);
  });
});
