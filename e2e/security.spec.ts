/**
 * What a hostile browser page can and cannot do, in Debian's Chromium:
 * - a page on another port of the same host (which still gets the SameSite=Strict
 *   cookie) cannot change anything in the console: a form post and a fetch are refused;
 * - embed.js accepts only http(s) servers (`server="javascript:…"` ran script before);
 * - pages carry a CSP, `frame-ancestors 'none'` for the console (it cannot be framed)
 *   and embeddable /embed, no-store, nosniff and a Referrer-Policy.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { Channel } from '../lib/schemas.ts';
import { BASE_URL, E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { serveOtherOrigin } from './support/pages.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

/** Serves HTML pages on 127.0.0.1 at another port: the same host (same site), another origin. */
async function hostilePages(pages: Record<string, string>): Promise<{ server: Server; origin: string }> {
  const server = await serveOtherOrigin(pages);
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const html = (body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`;

test('a page on another port of the same host cannot reset a stream key with the console session', async ({
  page,
  request,
}) => {
  const created = await request.post('/api/v1/channels', { headers: admin, data: { name: 'CSRF target' } });
  expect(created.status()).toBe(201);
  const channel = (await created.json()) as Channel;
  // Signed in to the console in this browser.
  expect((await page.request.post('/auth/session', { data: { token: E2E_ADMIN_TOKEN } })).status()).toBe(200);
  const reset = `${BASE_URL}/api/v1/channels/${channel.id}/reset`;
  const { server, origin } = await hostilePages({
    '/form.html': html(
      `<form id="f" method="POST" action="${reset}" enctype="text/plain"></form><script>document.getElementById('f').submit()</script>`,
    ),
    '/fetch.html': html(
      `<script>window.done = Promise.all([` +
        `fetch('${reset}', { method: 'POST', credentials: 'include', mode: 'no-cors' }),` +
        `fetch('${BASE_URL}/api/v1/channels/${channel.id}/start', { method: 'POST', credentials: 'include', mode: 'no-cors', body: '' })` +
        `]).then(() => 'sent', (e) => String(e));</script>`,
    ),
  });
  try {
    expect(origin).not.toBe(BASE_URL);
    // The form navigates to the answer: the cookie went along (else it would be 401) and was refused.
    await page.goto(`${origin}/form.html`);
    await page.waitForURL(reset);
    const answer = JSON.parse((await page.locator('body').textContent()) ?? '{}') as {
      error?: { code?: string };
    };
    expect(answer.error?.code).toBe('cross_origin_request');
    await page.screenshot({ path: path.join(ARTIFACTS, 'security-csrf-refused.png') });
    await page.goto(`${origin}/fetch.html`);
    expect(await page.evaluate(() => (window as unknown as { done: Promise<string> }).done)).toBe('sent');
    const after = await request.get(`/api/v1/channels/${channel.id}`, { headers: admin });
    expect(after.status()).toBe(200);
    expect(((await after.json()) as Channel).state, 'the channel was not started').toBe('stopped');
    expect(((await after.json()) as Channel).streamKey, 'the stream key did not change').toBe(
      channel.streamKey,
    );
    // The console itself still works with the same cookie.
    await page.goto(`/console/channels/${channel.id}`);
    await page
      .getByRole('button', { name: /Reset (stream )?key/ })
      .first()
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reset key' }).click();
    await expect
      .poll(
        async () =>
          (
            (await (
              await request.get(`/api/v1/channels/${channel.id}`, { headers: admin })
            ).json()) as Channel
          ).streamKey,
      )
      .not.toBe(channel.streamKey);
  } finally {
    await new Promise((r) => server.close(r));
    await request.delete(`/api/v1/channels/${channel.id}`, { headers: admin });
  }
});

test('embed.js accepts only http(s) servers', async ({ page }) => {
  const { server, origin } = await hostilePages({
    '/embed.html': html(
      `<script src="${BASE_URL}/embed.js"></script>` +
        `<onair-player id="js" channel="ch_x" server="javascript:window.top.pwned=1//"></onair-player>` +
        `<onair-player id="data" channel="ch_x" server="data:text/html,<script>parent.pwned=2</script>"></onair-player>` +
        `<onair-player id="ok" channel="ch_x" server="${BASE_URL}/some/path" token="v1.1.c.x"></onair-player>`,
    ),
  });
  try {
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await page.goto(`${origin}/embed.html`);
    await page.waitForTimeout(1000);
    const frames = await page.evaluate(() =>
      ['js', 'data', 'ok'].map(
        (id) => document.getElementById(id)?.shadowRoot?.querySelector('iframe')?.src ?? null,
      ),
    );
    expect(frames[0], 'no frame for a javascript: server').toBeNull();
    expect(frames[1], 'no frame for a data: server').toBeNull();
    expect(frames[2]).toBe(`${BASE_URL}/embed/ch_x?token=v1.1.c.x`);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(warnings.filter((w) => w.includes('must be an http(s) URL'))).toHaveLength(2);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('pages carry a CSP; the console cannot be framed, the embed page can; pages are never cached', async ({
  page,
  request,
}) => {
  const check = async (p: string) => {
    const res = await request.get(p, { maxRedirects: 0 });
    expect(res.status(), p).toBeLessThan(400);
    return res.headers();
  };
  for (const p of ['/console/sign-in', '/watch/ch_unknown']) {
    const h = await check(p);
    expect(h['content-security-policy'], p).toContain("frame-ancestors 'none'");
    expect(h['content-security-policy'], p).toContain("object-src 'none'");
    expect(h['x-frame-options'], p).toBe('DENY');
    expect(h['cache-control'], p).toBe('no-store');
    expect(h['x-content-type-options'], p).toBe('nosniff');
    expect(h['referrer-policy'], p).toBe('same-origin');
  }
  const embed = await check('/embed/ch_unknown');
  expect(embed['content-security-policy']).toContain('frame-ancestors *');
  expect(embed['x-frame-options']).toBeUndefined();
  expect(embed['cache-control']).toBe('no-store');
  // Build files keep their long cache.
  const signIn = await (await request.get('/console/sign-in')).text();
  const asset = /\/_next\/static\/[^"]+\.js/.exec(signIn)?.[0];
  expect(asset, 'a build file in the page').toBeTruthy();
  expect((await check(asset ?? ''))['cache-control']).toContain('immutable');

  // A page elsewhere frames the console and the embed page: only the embed page shows.
  const { server, origin } = await hostilePages({
    '/frames.html': html(
      `<iframe id="console" src="${BASE_URL}/console/sign-in" width="400" height="300"></iframe>` +
        `<iframe id="embed" src="${BASE_URL}/embed/ch_unknown" width="400" height="300"></iframe>`,
    ),
  });
  try {
    await page.goto(`${origin}/frames.html`);
    await expect
      .poll(() => page.frames().some((f) => f.url().startsWith(`${BASE_URL}/embed/`)), { timeout: 15_000 })
      .toBe(true);
    const embedFrame = page.frames().find((f) => f.url().startsWith(`${BASE_URL}/embed/`));
    await expect(embedFrame!.locator('video')).toBeAttached({ timeout: 15_000 });
    const consoleFrame = page.frames().find((f) => f.url().startsWith(`${BASE_URL}/console`));
    if (consoleFrame) await expect(consoleFrame.getByLabel('Admin token')).toHaveCount(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'security-framing.png') });
  } finally {
    await new Promise((r) => server.close(r));
  }
});
