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
