/** The home page and the console entrance, served by the real onair server in Debian's Chromium. */
import path from 'node:path';
import { expect, test } from '@playwright/test';

const SCREENSHOT = path.join(import.meta.dirname, 'artifacts', 'console-home.png');

test('the home page leads a visitor who is not signed in to the console sign-in', async ({ page }) => {
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

  const res = await page.goto('/');
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-type']).toContain('text/html');
  await expect(page).toHaveURL(/\/console\/sign-in\?next=%2Fconsole$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(page).toHaveTitle(/Sign in · onair/);
  await expect(page.getByLabel('Admin token')).toBeFocused();

  // Tailwind's stylesheet is applied: the page background is the dark theme, not the browser's white.
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).not.toBe('rgba(0, 0, 0, 0)');
  expect(background).not.toBe('rgb(255, 255, 255)');

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(pageErrors).toEqual([]);
  expect(failed).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test('console pages answer a visitor who is not signed in with a redirect to sign-in', async ({
  request,
}) => {
  const res = await request.get('/console/channels/ch_x?tab=1', { maxRedirects: 0 });
  expect(res.status()).toBe(303);
  expect(res.headers().location).toBe('/console/sign-in?next=%2Fconsole%2Fchannels%2Fch_x%3Ftab%3D1');
});

test('the server behind the page answers its health check', async ({ request }) => {
  const res = await request.get('/healthz');
  expect(res.status()).toBe(200);
  expect(await res.json()).toMatchObject({
    status: 'ok',
    details: { sfu: { engine: process.env.ONAIR_SFU ?? 'werift' } },
  });
});
