import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** Screenshots and logs of the last run (git-ignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts/e2e');

/** Debian's Chromium; the journeys never download a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export function prepareArtifactsDir(): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // Only this run's screenshots, so a stale picture is never mistaken for a current one.
  for (const name of readdirSync(ARTIFACTS_DIR)) {
    if (name.endsWith('.png') || name.endsWith('.log')) rmSync(join(ARTIFACTS_DIR, name), { force: true });
  }
  return ARTIFACTS_DIR;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser profile (own sessionStorage, so its own signed-in user) with short default
 * waits: every step waits for what it needs explicitly, and a missing element fails in seconds.
 */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserPage> {
  const context = await browser.newContext({ colorScheme: 'light', ...options });
  context.setDefaultTimeout(10_000);
  return watched(await context.newPage(), () => context.close());
}

/** Another tab in the window of `first`: same browser profile, but its own session storage (its own sign-in). */
export async function openTab(first: BrowserPage): Promise<BrowserPage> {
  const page = await first.page.context().newPage();
  return watched(page, () => page.close());
}

/** Records the page's uncaught errors and unexpected console errors. */
function watched(page: Page, close: () => Promise<void>): BrowserPage {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx answer it receives; the journeys cause the expected ones on purpose
    // (wrong password, unknown and forbidden projects, another user's chat).
    const expected = /^Failed to load resource: the server responded with a status of 40[134]\b/;
    if (message.type() === 'error' && !expected.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return {
    page,
    problems,
    screenshot: async (name) => {
      // Finishes running transitions (the mobile drawer slides in) so the picture shows the end state.
      await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), animations: 'disabled' });
    },
    close,
  };
}

export type BrowserPage = {
  page: Page;
  /** Uncaught errors and unexpected console errors seen so far. */
  problems: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
};

/** Polls `check` until it returns true; fails naming `what` after timeoutMs. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(50);
  }
}
