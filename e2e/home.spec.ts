/** The console home page renders in Debian's Chromium, served by the real onair server. */
import path from 'node:path';
import { expect, test } from '@playwright/test';

const SCREENSHOT = path.join(import.meta.dirname, 'artifacts', 'console-home.png');

test('the console home page renders', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    // The browser's own favicon probe is not the page's doing.
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) {
      consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    }
  });

  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });

  const res = await page.goto('/console');
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-type']).toContain('text/html');

  await expect(page.getByRole('heading', { level: 1, name: 'onair console' })).toBeVisible();
  await expect(page).toHaveTitle(/Console · onair/);
  await expect(page.getByRole('region', { name: 'Getting started' })).toBeVisible();
  await expect(page.getByText('POST /api/v1/channels')).toBeVisible();

  // Tailwind's stylesheet is applied: the page background is the dark theme, not the browser's white.
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).not.toBe('rgba(0, 0, 0, 0)');
  expect(background).not.toBe('rgb(255, 255, 255)');

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(pageErrors).toEqual([]);
  expect(failed).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test('the server behind the page answers its health check', async ({ request }) => {
  const res = await request.get('/healthz');
  expect(res.status()).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});
