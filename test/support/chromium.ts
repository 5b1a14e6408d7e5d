import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync } from 'node:fs';

/** Debian's chromium, driven by playwright-core (`npx playwright install` cannot download browsers here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `describe` when chromium is installed. Without it: under CI=true one failing test saying so (a
 * browser test silently skipped in CI would hide a broken page); elsewhere a loud warning naming
 * `what` goes untested, and `describe.skip`.
 */
export function describeWithChromium(name: string, what: string, body: () => void): void {
  if (existsSync(CHROMIUM)) return describe(name, body);
  const why = `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('has the browser it needs (chromium is required in CI)', () => {
        throw new Error(`chromium is required in CI: ${why}`);
      });
    });
  }
  console.warn(`\n!!! SKIPPED "${name}": ${why}.\n!!! ${what} is NOT tested. Under CI=true this fails instead of skipping.\n`);
  describe.skip(name, body);
}

/** A page that may reach one host only, with what it tried and what its console said. */
export interface IsolatedPage {
  browser: Browser;
  page: Page;
  /** Requests to any other host: aborted, and each one a failure of the suite. */
  foreign: string[];
  /** Every request and WebSocket the page opened. */
  requested: string[];
  /** The console's errors (CSP violations show up there). */
  consoleErrors: string[];
}

/**
 * Headless chromium with the flags this machine needs (no background networking, no QUIC), every
 * request to a host other than `serviceHost` aborted and recorded. `timeoutMs` stays below jest's 30 s
 * per test, so a stuck step fails with Playwright's own message (which element, which state).
 */
export async function openIsolatedPage(serviceHost: string, options: { width: number; height: number; timeoutMs: number }): Promise<IsolatedPage> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const isolated: IsolatedPage = { browser, page: undefined as unknown as Page, foreign: [], requested: [], consoleErrors: [] };
  const context = await browser.newContext({ viewport: { width: options.width, height: options.height } });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === serviceHost) return route.continue();
    isolated.foreign.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = (isolated.page = await context.newPage());
  page.setDefaultTimeout(options.timeoutMs);
  page.on('request', (request) => void isolated.requested.push(request.url()));
  page.on('websocket', (socket) => void isolated.requested.push(socket.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') isolated.consoleErrors.push(message.text());
  });
  return isolated;
}
