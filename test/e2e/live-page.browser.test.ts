import { describeWithChromium, openIsolatedPage } from '../support/chromium';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { buildGraphiQL } from '../support/graphiql-bundle';
import { startTestGraph, type TestGraph } from '../support/test-graph';
import { DEMO_DEVICES, numberedClientIds } from '../../src/local/device-simulator-defaults';

/** Debian's chromium (`apt-get install -y chromium`); `npx playwright install` cannot download here. */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const UI_TIMEOUT_MS = 15_000;
const DEMO = numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, 3);
const TYPED = 'GID_demo@@@device-9';

/**
 * The landing page and the live presence page in a real browser, every request to any other host
 * blocked and recorded: the live page, a client of the public API (presenceChanged over WebSocket,
 * groupPresence polled), shows the demo devices online, plots the group, follows a device typed into
 * it when a real MQTT client connects as it, and shows what the API answers for the same devices.
 */
describeWithChromium('the landing and live pages in a browser, with no other host reachable', 'The landing and live pages', () => {
  let graph: TestGraph;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let foreign: string[] = [];
  let requested: string[] = [];
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    await buildGraphiQL();
    graph = await startTestGraph({ LOCAL_DEMO_DEVICES: '3' });
    origin = new URL(graph.url).origin;
    const serviceHost = new URL(graph.url).host;
    ({ browser, page, foreign, requested, consoleErrors } = await openIsolatedPage(serviceHost, { width: 1100, height: 900, timeoutMs: UI_TIMEOUT_MS }));
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await graph?.stop();
  });

  it('answers / with a landing page linking to the live page and GraphiQL, under the same CSP as GraphiQL', async () => {
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['x-frame-options']).toBe('DENY');
    const links = await page.locator('a').evaluateAll((anchors) => anchors.map((a) => new URL(a.getAttribute('href') ?? '', a.baseURI).href));
    expect(links).toEqual(expect.arrayContaining([`${origin}/live`, `${origin}/graphql`]));
    // The same CSP as GraphiQL's page.
    const graphiql = await fetch(graph.url, { headers: { accept: 'text/html' } });
    expect(headers['content-security-policy']).toBe(graphiql.headers.get('content-security-policy'));
  });

  it('shows the demo devices online and plots the group from groupPresence', async () => {
    const response = await page.goto(`${origin}/live`);
    expect(response?.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("connect-src 'self'");
    for (const id of DEMO) await row(page, id, 'online').waitFor();
    await waitUntil(async () => Number((await page.locator('#plot polyline.online').getAttribute('data-points').catch(() => null)) ?? 0) >= 2);
    expect(await page.locator('#group-status').textContent()).toMatch(/^3 of 3 known devices online/);
  });

  it('follows a device typed into the field when a real MQTT client connects as it, showing what the API answers', async () => {
    await page.locator('#client-id').fill(TYPED);
    await page.locator('#add-device button').click();
    await row(page, TYPED, 'offline').waitFor();

    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId: TYPED, reconnectPeriod: 0 });
    try {
      await row(page, TYPED, 'online').waitFor();
      // The plot catches up with the fourth device at the next poll.
      await page.locator('#group-status', { hasText: /^4 of 4 known/ }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'live-page.png'), fullPage: true });

      const shown = await page.locator('#devices tr').evaluateAll((rows) =>
        rows.map((row) => ({ clientId: row.getAttribute('data-client-id'), online: row.querySelector('td.status')?.textContent === 'online' })),
      );
      const answered = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }', variables: { ids: [...DEMO, TYPED] } }),
      }).then((r) => r.json() as Promise<{ data: { devices: { clientId: string; online: boolean }[] } }>);
      expect(shown).toEqual(answered.data.devices);
      expect(shown.map((row) => row.online)).toEqual([true, true, true, true]);
    } finally {
      await device.endAsync();
    }
    await row(page, TYPED, 'offline').waitFor();
    expect(requested.some((url) => url.startsWith(`ws://${new URL(origin).host}/graphql`))).toBe(true);
  });

  it('with GRAPHIQL_ENABLED=false, answers / and /live with a 404 that says the pages are off', async () => {
    const off = await startTestGraph({ GRAPHIQL_ENABLED: 'false' });
    try {
      for (const path of ['/', '/live']) {
        const response = await fetch(new URL(path, off.url));
        expect(response.status).toBe(404);
        expect(await response.text()).toContain('GRAPHIQL_ENABLED=false');
      }
    } finally {
      await off.stop();
    }
  });

  it('asked nothing of any other host, and broke no rule of its Content-Security-Policy', () => {
    expect(foreign).toEqual([]);
    expect(requested.filter((url) => new URL(url).origin !== origin && new URL(url).host !== new URL(origin).host)).toEqual([]);
    expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});

/** The live page's table row of one device, in one status. */
function row(page: Page, clientId: string, status: 'online' | 'offline') {
  return page.locator(`tr[data-client-id="${clientId}"][data-status="${status}"]`);
}

/** Polls `ready` until it holds (bounded). */
async function waitUntil(ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${UI_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
