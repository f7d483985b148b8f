/**
 * The public watch page: offline poster first, then it starts playing by itself
 * when a publisher goes live; HLS and DASH through the protocol switch; the
 * quality menu lists every rendition; usable at 375 px.
 */
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import { createAndStart, publishCamera } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const auth = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.setTimeout(120_000);

/** The video gets past 2 s within `timeoutMs`, then plays on: more than 2.5 s in the next 4 s. */
async function expectPlaying(page: Page, video: Locator, timeoutMs: number): Promise<void> {
  await expect
    .poll(async () => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: timeoutMs })
    .toBeGreaterThan(2);
  const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  await page.waitForTimeout(4000);
  expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(t0 + 2.5);
}

test('the watch page waits offline, then plays HLS and DASH by itself', async ({ page, request }) => {
  const channel = await createAndStart(request, auth, {
    name: 'Watch page test',
    description: 'Public page check',
  });

  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`/watch/${channel.id}`);
  await expect(page.getByText('The channel is offline')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole('heading', { name: 'Watch page test' })).toBeVisible();
  await page.screenshot({ path: path.join(ARTIFACTS, 'watch-offline-375.png') });

  let publisher: WhipPublisher | undefined;
  try {
    publisher = await publishCamera(channel);

    // No reload: the page notices the stream and starts playing by itself (muted autoplay).
    const video = page.getByTestId('live-video');
    await expectPlaying(page, video, 45_000);
    await expect(page.getByRole('button', { name: /live/i })).toBeVisible();
    const quality = page.getByLabel('Quality');
    await expect(quality.locator('option')).toHaveCount(4); // auto + 720p, 480p, 360p
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: path.join(ARTIFACTS, 'watch-hls-375.png') });

    // The protocol switch moves to DASH and keeps the choice in the URL.
    await page.getByLabel('Protocol').selectOption('dash');
    await expect(page).toHaveURL(/protocol=dash/);
    await expect(page.locator('[data-engine="dash.js"]')).toBeVisible({ timeout: 15_000 });
    await expectPlaying(page, video, 30_000);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'watch-dash.png') });
  } finally {
    await publisher?.stop();
    await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: auth });
  }
});
