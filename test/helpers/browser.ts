import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, type RegistryHandle } from './server.js';

/**
 * A real Chromium (Debian's, driven by playwright-core) for the web UI's browser tests: one
 * browser and one page, with axe-core and CSP checks and screenshots into test/screenshots/
 * (not committed). Every test/e2e/ui-*.test.ts file opens one with {@link openBrowser}.
 */

const SHOTS = join(repoRoot, 'test/screenshots');
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface BrowserSession {
  readonly browser: Browser;
  readonly page: Page;
  /** axe-core finds no serious or critical violation, and the page logged no CSP violation. */
  assertAccessible(screen: string): Promise<void>;
  /** A full-page screenshot, `<prefix><name>.png`. */
  shot(name: string): Promise<void>;
  /** Logs in through the login page and waits for the projects screen. */
  login(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(server: RegistryHandle, options: { shotPrefix?: string; locale?: string } = {}): Promise<BrowserSession> {
  await mkdir(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ locale: options.locale ?? 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 760 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return {
    browser,
    page,
    async assertAccessible(screen) {
      // Evaluated through the DevTools protocol, which the CSP does not govern.
      await page.evaluate(axeSource);
      const violations = (await page.evaluate(`axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))`)) as {
        id: string;
        impact: string;
        targets: string[];
      }[];
      const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(serious, [], `${screen}: axe found serious violations`);
      assert.deepEqual(cspViolations, [], `${screen}: CSP violations`);
    },
    async shot(name) {
      await page.screenshot({ path: join(SHOTS, `${options.shotPrefix ?? ''}${name}.png`), fullPage: true });
    },
    async login(username, password) {
      await page.goto(`${server.url}/`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
    },
    close: () => browser.close(),
  };
}
