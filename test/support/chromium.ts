/**
 * Real headless Chromium for the dashboard tests: Debian's /usr/bin/chromium (installed by
 * scripts/install-test-deps.sh), driven by playwright-core, which downloads no browser. No background traffic: nothing
 * may leave for the internet.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDirectory } from './operator.js';

/** Debian's Chromium; the documented path on the machines this project runs on. */
export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh browser profile in a temporary directory; fails with the way out when Chromium is missing. */
export async function launchChromium(
  profilePrefix: string,
  viewport?: { width: number; height: number },
): Promise<BrowserContext> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run scripts/install-test-deps.sh (apt-get install chromium)`,
  );
  return chromium.launchPersistentContext(tempDirectory(profilePrefix), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    ...(viewport === undefined ? {} : { viewport }),
    timeout: 30_000,
  });
}

/**
 * Collects what the page reports as broken: console errors (a Content-Security-Policy violation is one) and uncaught
 * page errors; console errors matching `expected` are the test's own doing and left out.
 */
export function pageProblems(page: Page, expected?: RegExp): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !(expected?.test(message.text()) ?? false))
      problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}
