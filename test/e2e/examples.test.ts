import { CHROMIUM, describeWithChromium } from '../support/chromium';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import mqtt from 'mqtt';
import { chromium, type Browser } from 'playwright-core';
import { watchFleet } from '../../examples/apollo-client/fleet-watch';
import type { ListedDevice } from '../../examples/operations';
import { followFleet } from '../../examples/urql/fleet';
import { startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const EXAMPLES = join(__dirname, '..', '..', 'examples');

const statusOf = (devices: readonly ListedDevice[]) => Object.fromEntries(devices.map((device) => [device.clientId, device.online]));

/**
 * The example apps of examples/, as a user runs them, against a started service (the anonymous local
 * instance, no configuration): each lists its devices, then follows a real MQTT client going online
 * and offline from its subscription alone, through its client's normalising cache.
 */
describe('example apps', () => {
  let graph: TestGraph;
  let pageServer: Server | undefined;
  let pageOrigin = '';

  beforeAll(async () => {
    // The urql page is served from an origin of its own, which CORS_ORIGINS lists, as an app would be.
    pageServer = await servePage();
    pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    graph = await startTestGraph({ CORS_ORIGINS: pageOrigin });
  });
  afterAll(async () => {
    await graph?.stop();
    await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve(undefined)));
  });

  it('Apollo Client (HttpLink, GraphQLWsLink, InMemoryCache): the cached list follows the device', async () => {
    const ids = ['GID_examples@@@apollo-1', 'GID_examples@@@apollo-2'];
    let latest: readonly ListedDevice[] = [];
    const fleet = await watchFleet({ url: graph.url, clientIds: ids, onList: (devices) => (latest = devices) });
    try {
      expect(statusOf(latest)).toEqual({ [ids[0]]: false, [ids[1]]: false });
      const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId: ids[0], reconnectPeriod: 0 });
      await waitFor('the cached list to show the device online', () => statusOf(fleet.devices())[ids[0]] === true, 5000);
      expect(statusOf(latest)).toEqual({ [ids[0]]: true, [ids[1]]: false });
      await device.endAsync();
      await waitFor('the cached list to show the device offline', () => statusOf(fleet.devices())[ids[0]] === false, 5000);
    } finally {
      await fleet.stop();
    }
  });

  it('urql (GET queries, Graphcache, subscriptions over Server-Sent Events) in Node: the list follows the device', async () => {
    const ids = ['GID_examples@@@urql-1', 'GID_examples@@@urql-2'];
    let latest: readonly ListedDevice[] = [];
    const errors: Error[] = [];
    const fleet = followFleet({ url: graph.url, clientIds: ids, onList: (devices) => (latest = devices), onError: (error) => errors.push(error) });
    try {
      await waitFor('the first list', () => latest.length === 2, 5000);
      expect(statusOf(latest)).toEqual({ [ids[0]]: false, [ids[1]]: false });
      const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId: ids[1], reconnectPeriod: 0 });
      await waitFor('the list to show the device online', () => statusOf(latest)[ids[1]] === true, 5000);
      await device.endAsync();
      await waitFor('the list to show the device offline', () => statusOf(latest)[ids[1]] === false, 5000);
      expect(errors).toEqual([]);
    } finally {
      fleet.stop();
    }
  });

  describeWithChromium('the urql page in Chromium, from another origin (CORS_ORIGINS), no other host reachable', 'The urql example page', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('lists the devices and shows a real MQTT client going online, live', async () => {
      const ids = ['GID_examples@@@page-1', 'GID_examples@@@page-2'];
      const serviceHost = new URL(graph.url).host;
      const context = await browser.newContext();
      const foreign: string[] = [];
      await context.route('**/*', (route) => {
        const host = new URL(route.request().url()).host;
        if (host === serviceHost || `http://${host}` === pageOrigin) return route.continue();
        foreign.push(route.request().url());
        return route.abort('blockedbyclient');
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const consoleErrors: string[] = [];
      const toService: string[] = [];
      page.on('request', (request) => void (new URL(request.url()).host === serviceHost && toService.push(`${request.method()} ${new URL(request.url()).pathname}`)));
      page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())));
      try {
        await page.goto(`${pageOrigin}/index.html?api=${encodeURIComponent(graph.url)}&ids=${encodeURIComponent(ids.join(','))}`);
        const item = (clientId: string, online: boolean) => page.locator(`li[data-client-id="${clientId}"][data-online="${online}"]`);
        await item(ids[0], false).waitFor();
        await item(ids[1], false).waitFor();
        const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId: ids[0], reconnectPeriod: 0 });
        await item(ids[0], true).waitFor();
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'example-urql.png') });
        await device.endAsync();
        await item(ids[0], false).waitFor();
        expect(foreign).toEqual([]);
        expect(consoleErrors).toEqual([]);
        // urql's defaults, unconfigured: the query as a GET, the subscription as an event stream (a preflighted POST).
        expect(toService).toEqual(expect.arrayContaining(['GET /graphql', 'POST /graphql/stream']));
      } finally {
        await context.close();
      }
    });
  });
});

/** examples/urql/index.html and its bundle (esbuild, as an app's build would make it). */
async function servePage(): Promise<Server> {
  const bundle = await build({
    entryPoints: [join(EXAMPLES, 'urql', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome109'],
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0].text;
  const html = await readFile(join(EXAMPLES, 'urql', 'index.html'), 'utf8');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (path === '/fleet.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
