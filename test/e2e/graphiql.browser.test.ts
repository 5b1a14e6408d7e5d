import { describeWithChromium, openIsolatedPage } from '../support/chromium';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { buildGraphiQL } from '../support/graphiql-bundle';
import { bearer, opsKey, startApiKeyGraph } from '../support/secured-graph';
import type { TestGraph } from '../support/test-graph';
import { startSimulatedDevices } from '../../src/local/device-simulator';
import { DEMO_DEVICES, numberedClientIds, SIMULATOR_DEFAULTS } from '../../src/local/device-simulator-defaults';

/** One event of a subscription as the page lists it. */
interface Event {
  received: string;
  data: { presenceChanged: { device: { clientId: string; online: boolean }; online: boolean; initial: boolean } };
}

/** Debian's chromium (`apt-get install -y chromium`); `npx playwright install` cannot download here. */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const UI_TIMEOUT_MS = 15_000;
/** GraphiQL's editor tools hold the variables editor, then the headers editor (shown or not). */
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor >> nth=1';

/**
 * A real browser on the self-hosted GraphiQL, with every request to any host other than the
 * service's blocked and recorded: the page must load, run the example for the demo
 * devices, and show a subscription event when a real MQTT client connects, offline-capable.
 * Screenshots go to test-artifacts/ (gitignored), for a human to look at.
 */
describeWithChromium('GraphiQL in a browser, with no other host reachable', 'The self-hosted GraphiQL', () => {
  let graph: TestGraph;
  let browser: Browser;
  let page: Page;
  let serviceHost: string;
  /** Requests to any other host: aborted, and each one a failure of this suite. */
  let foreign: string[] = [];
  /** Requests to the service itself, and what the console said (CSP violations show up there). */
  let requested: string[] = [];
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    await buildGraphiQL();
    graph = await startApiKeyGraph({ LOCAL_DEMO_DEVICES: '3' });
    serviceHost = new URL(graph.url).host;
    ({ browser, page, foreign, requested, consoleErrors } = await openIsolatedPage(serviceHost, { width: 1400, height: 900, timeoutMs: UI_TIMEOUT_MS }));
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await graph?.stop();
  });

  it('loads from the service alone, with the example for the demo devices (schema/operations/fleet-dashboard.graphql) in the first tab', async () => {
    const response = await page.goto(graph.url);
    expect(response?.status()).toBe(200);
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await editorText(page, '.graphiql-query-editor')).toContain('query FleetDashboard');
    expect(await page.locator('.graphiql-tab').count()).toBe(2);
  });

  it('runs the default query with an API key from the headers editor and shows the statuses', async () => {
    await page.getByRole('button', { name: 'Headers' }).click();
    await setEditorText(page, HEADERS_EDITOR, JSON.stringify(bearer(opsKey.key)));
    await page.locator('.graphiql-execute-button').click();
    const result = await waitForResult(page, (text) => text.includes('"gateways"'));
    expect(JSON.parse(result)).toEqual({
      data: {
        gateways: [
          { clientId: 'GID_demo@@@device-1', deviceId: 'device-1', online: true },
          { clientId: 'GID_demo@@@device-2', deviceId: 'device-2', online: true },
        ],
        sensor: { clientId: 'GID_demo@@@device-3', deviceId: 'device-3', online: true, exactlyNow: true },
        missing: { clientId: 'GID_demo@@@not-connected', deviceId: 'not-connected', online: false },
      },
    });
    await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
  });

  it('shares the headers typed in one tab with every tab, and lists the events of the default subscription as soon as `npm run devices` runs', async () => {
    await page.locator('.graphiql-tab', { hasText: 'LiveDevices' }).click();
    await page.locator('.graphiql-tab-active', { hasText: 'LiveDevices' }).waitFor();
    // Typed in the first tab only (previous test): this tab shows the same, and sends it.
    await waitForEditor(page, HEADERS_EDITOR, (text) => text.includes(opsKey.key));
    await page.locator('.graphiql-execute-button').click();
    const initial = await waitForResult(page, (text) => (JSON.parse(text || '{}').events ?? []).length >= 6);
    const initialIds = (JSON.parse(initial).events as Event[]).map((event) => event.data.presenceChanged.device.clientId).sort();
    expect(initialIds).toEqual([...numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, 3), ...numberedClientIds(SIMULATOR_DEFAULTS.groupId, SIMULATOR_DEFAULTS.prefix, SIMULATOR_DEFAULTS.count)].sort());

    // `npm run devices` with no options: the simulator's defaults, next to the demo devices it must not take over.
    const devices = await startSimulatedDevices({ url: graph.local!.mqttUrl, ...SIMULATOR_DEFAULTS, taken: new Set(graph.local!.demoDevices) });
    try {
      const shown = await waitForResult(page, (text) => (JSON.parse(text || '{}').events ?? []).length >= 6 + SIMULATOR_DEFAULTS.count);
      const events = JSON.parse(shown).events as Event[];
      // Newest first, the initial statuses still listed below the connects.
      const connects = events.slice(0, SIMULATOR_DEFAULTS.count).map((event) => event.data.presenceChanged);
      expect(connects.map((change) => change.device.clientId).sort()).toEqual(devices.clientIds);
      expect(connects.every((change) => change.online && !change.initial)).toBe(true);
      expect(events.slice(SIMULATOR_DEFAULTS.count).every((event) => event.data.presenceChanged.initial)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql-live-devices.png') });
    } finally {
      await devices.stop();
    }
    // The run button stops the subscription.
    await page.locator('.graphiql-execute-button').click();
  });

  it('shows a subscription event when a real MQTT client connects', async () => {
    const clientId = 'GID_demo@@@browser-1';
    await page.locator('.graphiql-tab', { hasText: 'LiveDevices' }).click();
    const subscription = (await editorText(page, '.graphiql-query-editor'))
      .replace(/clientIds: \[[^\]]*\]/, `clientIds: ["${clientId}"]`)
      .replace('subscription LiveDevices', 'subscription BrowserWatch');
    await setEditorText(page, '.graphiql-query-editor', subscription);
    // GraphiQL reads the operation name from the editor a moment after an edit; the tab's title shows
    // when it has, and only then does the run button run the new operation.
    await page.locator('.graphiql-tab-active', { hasText: 'BrowserWatch' }).waitFor();
    await page.locator('.graphiql-execute-button').click();
    await waitForResult(page, (text) => text.includes('"initial": true'));

    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    try {
      const events = JSON.parse(await waitForResult(page, (text) => text.includes('"initial": false'))).events as Event[];
      expect(events.map((event) => event.data.presenceChanged)).toEqual([
        expect.objectContaining({ device: expect.objectContaining({ clientId, online: true }), online: true, initial: false }),
        expect.objectContaining({ device: expect.objectContaining({ clientId, online: false }), online: false, initial: true }),
      ]);
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql-subscription.png') });
    } finally {
      await device.endAsync();
    }
    expect(requested.some((url) => url.startsWith(`ws://${serviceHost}/graphql`))).toBe(true);
  });

  it('asked nothing of any other host, and broke no rule of its Content-Security-Policy', () => {
    expect(foreign).toEqual([]);
    expect(requested.filter((url) => new URL(url).host !== serviceHost)).toEqual([]);
    expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});

/** The text of the CodeMirror 5 editor inside `selector`. */
function editorText(page: Page, selector: string): Promise<string> {
  return page.locator(selector).locator('.CodeMirror').first().evaluate((element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

/** Replaces an editor's text as a paste would, so GraphiQL sees the change (no keystroke-by-keystroke autocompletion). */
async function setEditorText(page: Page, selector: string, text: string): Promise<void> {
  await page
    .locator(selector)
    .locator('.CodeMirror')
    .first()
    .evaluate((element, value) => (element as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(value), text);
}

/** Waits until an editor's text satisfies `ready` (bounded). */
async function waitForEditor(page: Page, selector: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await editorText(page, selector).catch(() => '');
    if (ready(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out after ${UI_TIMEOUT_MS} ms waiting for ${selector}; it shows: ${last}`);
}

/** Waits until the result pane's text satisfies `ready` (bounded), and returns it. */
async function waitForResult(page: Page, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await page
      .locator('.result-window .CodeMirror')
      .evaluate((element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue())
      .catch(() => '');
    if (ready(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out after ${UI_TIMEOUT_MS} ms waiting for the result pane; it shows: ${last}`);
}
