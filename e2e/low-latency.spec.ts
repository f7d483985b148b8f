/**
 * Low latency in Chromium: a `latency: "low"` channel on the watch page, played by hls.js in
 * lowLatencyMode (parts and blocking reloads) and by dash.js in low-latency mode (chunked segments,
 * the MPD's ServiceDescription), for 20 s each; then the same watch page through the shipped nginx
 * edge. Asserts playback and that the low-latency machinery is used; the delay shown is recorded
 * (the bench reports the figure, CI does not time it).
 */
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { Channel } from '../lib/schemas.ts';
import { BASE_URL, E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { startEdge, type NginxProcess } from '../test/helpers/nginx-edge.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import { publishCamera, reporter } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const auth = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.setTimeout(150_000);

/** Media requests the page made, by kind. */
function track(page: Page): {
  blocking: number;
  parts: number;
  mpd: number;
  segments: number;
  failed: string[];
} {
  const seen = { blocking: 0, parts: 0, mpd: 0, segments: 0, failed: [] as string[] };
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/live/')) return;
    if (u.searchParams.has('_HLS_msn')) seen.blocking++;
    if (/\.p\d+\.m4s$/.test(u.pathname)) seen.parts++;
    else if (u.pathname.endsWith('.m4s')) seen.segments++;
    if (u.pathname.endsWith('.mpd')) seen.mpd++;
  });
  page.on('response', (r) => {
    if (r.status() >= 500) seen.failed.push(`${r.status()} ${r.url()}`);
  });
  return seen;
}

/** Plays for `seconds` and checks the video advanced about as much; returns the delay the page shows. */
async function playsFor(page: Page, seconds: number): Promise<string> {
  const video = page.getByTestId('live-video');
  await expect
    .poll(async () => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 45_000 })
    .toBeGreaterThan(1);
  const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  await page.waitForTimeout(seconds * 1000);
  const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  expect(t1 - t0, 'media time advanced with the wall clock').toBeGreaterThan(seconds * 0.8);
  await expect(page.getByTestId('latency')).toBeVisible();
  return (await page.getByTestId('latency').textContent()) ?? '';
}

test('hls.js (lowLatencyMode) and dash.js (low latency) play a low-latency channel, directly and through the nginx edge', async ({
  page,
  request,
}, testInfo) => {
  const created = await request.post('/api/v1/channels', {
    headers: auth,
    data: { name: 'Low latency', mode: 'passthrough' },
  });
  expect(created.status()).toBe(201);
  const channel = (await created.json()) as Channel;
  expect(channel.latency).toBe('low');
  expect((await request.post(`/api/v1/channels/${channel.id}/start`, { headers: auth })).status()).toBe(200);
  const note = reporter(testInfo, 'delay');

  let publisher: WhipPublisher | undefined;
  let edge: NginxProcess | undefined;
  try {
    publisher = await publishCamera(channel);

    await page.setViewportSize({ width: 1280, height: 800 });
    const hls = track(page);
    await page.goto(`/watch/${channel.id}`);
    await expect(page.locator('[data-engine="hls.js"]')).toBeVisible({ timeout: 30_000 });
    note(`hls.js LL: ${await playsFor(page, 20)}`);
    expect(hls.blocking, 'hls.js made blocking playlist reloads').toBeGreaterThan(5);
    expect(hls.parts, 'hls.js loaded parts').toBeGreaterThan(5);
    expect(hls.failed).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'watch-ll-hls.png') });

    const dashPage = await page.context().newPage();
    await dashPage.setViewportSize({ width: 1280, height: 800 });
    const dash = track(dashPage);
    await dashPage.goto(`/watch/${channel.id}?protocol=dash`);
    await expect(dashPage.locator('[data-engine="dash.js"]')).toBeVisible({ timeout: 30_000 });
    note(`dash.js LL: ${await playsFor(dashPage, 20)}`);
    expect(dash.mpd).toBeGreaterThan(5);
    expect(dash.failed).toEqual([]);
    await dashPage.screenshot({ path: path.join(ARTIFACTS, 'watch-ll-dash.png') });
    await dashPage.close();

    // The same page and stream through Debian's nginx with the shipped edge config.
    edge = await startEdge(Number(new URL(BASE_URL).port));
    const edgePage = await page.context().newPage();
    await edgePage.setViewportSize({ width: 1280, height: 800 });
    const viaEdge = track(edgePage);
    const cacheHits: string[] = [];
    edgePage.on('response', (r) => {
      const status = r.headers()['x-cache-status'];
      if (status) cacheHits.push(status);
    });
    await edgePage.goto(`${edge.url}/watch/${channel.id}`);
    await expect(edgePage.locator('[data-engine="hls.js"]')).toBeVisible({ timeout: 30_000 });
    note(`hls.js LL through nginx: ${await playsFor(edgePage, 20)}`);
    expect(viaEdge.blocking).toBeGreaterThan(5);
    expect(viaEdge.parts).toBeGreaterThan(5);
    expect(cacheHits.length, 'media went through the edge cache').toBeGreaterThan(10);
    await edgePage.screenshot({ path: path.join(ARTIFACTS, 'watch-ll-edge.png') });
    await edgePage.close();
  } finally {
    await publisher?.stop();
    await edge?.stop();
    await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: auth });
  }
});
