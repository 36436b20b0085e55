/**
 * Browser tests of the web UI: Debian's chromium (/usr/bin/chromium, installed by scripts/install.sh) driven
 * headless by playwright-core; nothing is downloaded. Each step that fails leaves a screenshot under
 * test-output/ui/<name>.png; every page checked gets an axe-core run that must find no serious or critical
 * violation; every console message is kept, so tests can show no CSP violation and no secret was logged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './server.ts';

export const CHROMIUM = process.env.TRESOR_CHROMIUM ?? '/usr/bin/chromium';
export const OUTPUT_DIR = path.join(ROOT, 'test-output', 'ui');
const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** Generous: two cores shared with other work. */
export const UI_TIMEOUT = 30_000;

export interface UiSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every console message and page error, in order. */
  console: string[];
  close(): Promise<void>;
}

export async function openBrowser(opts: { width?: number; height?: number } = {}): Promise<UiSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 } });
  context.setDefaultTimeout(UI_TIMEOUT);
  context.setDefaultNavigationTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  const messages: string[] = [];
  page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  return {
    browser,
    context,
    page,
    console: messages,
    close: async () => {
      await browser.close();
    },
  };
}

/** Runs `fn`; when it throws, saves a full-page screenshot as test-output/ui/<name>.png and rethrows. */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    const file = path.join(OUTPUT_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    (err as Error).message += `\n(screenshot: ${file})`;
    throw err;
  }
}

/**
 * axe-core on the page as it stands; fails on a serious or critical violation. The script goes in through
 * page.evaluate, since the UI's CSP (script-src 'self') rightly refuses an injected <script> tag.
 */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  const has = await page.evaluate(() => typeof (window as any).axe === 'object');
  if (!has) await page.evaluate(AXE_SOURCE);
  const violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => ({ target: n.target })) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `accessibility violations on ${what}`,
  );
}

/** No console message reported a CSP violation, and none contains any of `secrets`. */
export function assertCleanConsole(messages: string[], secrets: string[]): void {
  assert.deepEqual(messages.filter((m) => /Content Security Policy|Refused to/i.test(m)), [], 'CSP violations in the console');
  for (const s of secrets.filter(Boolean)) {
    assert.ok(!messages.some((m) => m.includes(s)), 'a secret value appeared in the browser console');
  }
}
