// Browser test helpers: Debian's chromium driven by playwright-core, and
// screenshots saved under build/screenshots/ (paths printed).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHOTS = path.resolve(here, '../../build/screenshots');
export const WEB_DIR = path.resolve(here, '../../build/web');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A headless chromium, closed after test t. */
export async function launch(t) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    t.after(() => browser.close());
    return browser;
}

/** A page of its own context; console errors and failed requests are collected in page.problems. */
export async function newPage(browser, viewport = DESKTOP) {
    const ctx = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
    return page;
}

export async function shot(page, name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
    return file;
}
