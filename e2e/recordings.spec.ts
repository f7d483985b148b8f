/**
 * Programs in the browser: a viewer scrubs back in a running program's DVR
 * window with hls.js and with dash.js and returns to live; the recording plays
 * on demand when the program stops; the console shows programs, clips one and
 * lists the assets. Screenshots go to e2e/artifacts/recordings-*.png.
 */
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { AssetView, ProgramView } from '../lib/schemas.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import { createAndStart, publishCamera } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const auth = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.setTimeout(420_000);

interface Playhead {
  currentTime: number;
  /** Seconds from the playhead to the end of what can be reached (the live edge in DVR). */
  behind: number;
  windowSeconds: number;
  paused: boolean;
}

async function playhead(page: Page): Promise<Playhead> {
  return page.getByTestId('live-video').evaluate((v: HTMLVideoElement) => {
    const s = v.seekable;
    const start = s.length > 0 ? s.start(0) : 0;
    const end = s.length > 0 ? s.end(s.length - 1) : 0;
    return {
      currentTime: v.currentTime,
      behind: end - v.currentTime,
      windowSeconds: end - start,
      paused: v.paused,
    };
  });
}

async function expectAdvancing(page: Page, seconds = 2): Promise<void> {
  const t0 = (await playhead(page)).currentTime;
  await expect
    .poll(async () => (await playhead(page)).currentTime, { timeout: 20_000 })
    .toBeGreaterThan(t0 + seconds);
}

/** Scrubs 20 s back from the live edge, plays there, then goes back to live with the button. */
async function scrubAndReturn(page: Page, engine: string): Promise<void> {
  await expect(page.locator(`[data-engine="${engine}"]`)).toBeVisible({ timeout: 20_000 });
  await expect.poll(async () => (await playhead(page)).currentTime, { timeout: 45_000 }).toBeGreaterThan(1);
  await expect
    .poll(async () => (await playhead(page)).windowSeconds, { timeout: 20_000 })
    .toBeGreaterThan(30);
  await expect(page.getByTestId('seek-bar')).toBeVisible();
  await page.getByTestId('live-video').evaluate((v: HTMLVideoElement) => {
    v.currentTime = v.seekable.end(v.seekable.length - 1) - 20;
  });
  await expect.poll(async () => (await playhead(page)).behind, { timeout: 10_000 }).toBeGreaterThan(15);
  await expectAdvancing(page);
  const back = await playhead(page);
  expect(back.behind, `${engine} plays 20 s behind the live edge`).toBeGreaterThan(15);
  await expect(page.getByRole('button', { name: 'Back to live' })).toBeVisible({ timeout: 5000 });
  await page.screenshot({ path: path.join(ARTIFACTS, `recordings-dvr-${engine}.png`) });
  await page.getByRole('button', { name: 'Back to live' }).click();
  await expect.poll(async () => (await playhead(page)).behind, { timeout: 15_000 }).toBeLessThan(12);
  await expectAdvancing(page);
}

test('DVR while live with hls.js and dash.js, the recording on demand, clips and assets in the console', async ({
  page,
  request,
  context,
}) => {
  const channel = await createAndStart(request, auth, { name: 'DVR stage', mode: 'passthrough' });
  let publisher: WhipPublisher | undefined;
  try {
    publisher = await publishCamera(channel);
    const program = (await (
      await request.post(`/api/v1/channels/${channel.id}/programs`, {
        headers: auth,
        data: { name: 'Main event', archiveWindowMinutes: 5 },
      })
    ).json()) as ProgramView;
    expect((await request.post(`/api/v1/programs/${program.id}/start`, { headers: auth })).status()).toBe(
      200,
    );
    // Let the program run for 40 s: the DVR window then reaches well beyond the live window.
    await page.waitForTimeout(40_000);

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/watch/programs/${program.id}`);
    await expect(page.getByRole('heading', { name: 'Main event' })).toBeVisible({ timeout: 15_000 });
    const t0 = Date.now();
    await scrubAndReturn(page, 'hls.js');
    console.log(`  · hls.js DVR checked after ${Math.round((Date.now() - t0) / 1000)} s`);
    await page.getByLabel('Protocol').selectOption('dash');
    await scrubAndReturn(page, 'dash.js');
    console.log(`  · dash.js DVR checked after ${Math.round((Date.now() - t0) / 1000)} s`);

    // --- The console: the programs table, a clip of the last half minute.
    const signIn = await context.request.post('/auth/session', { data: { token: E2E_ADMIN_TOKEN } });
    expect(signIn.status()).toBe(200);
    await page.goto(`/console/channels/${channel.id}`);
    const row = page.getByTestId('program-row').filter({ hasText: 'Main event' });
    await expect(row).toContainText('recording');
    await expect(row.getByRole('link', { name: 'DVR' })).toHaveAttribute(
      'href',
      new RegExp(`/watch/programs/${program.id}$`),
    );
    await row.getByRole('button', { name: 'Clip program Main event' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByTestId('live-video')).toBeVisible();
    await dialog.getByLabel('Clip name').fill('Best moment');
    await dialog.getByRole('spinbutton', { name: 'Last minutes' }).fill('0.5');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(ARTIFACTS, 'recordings-clip-dialog.png') });
    await dialog.getByRole('button', { name: /Clip the last/ }).click();
    await expect(page.getByText(/Clip “Best moment” \(\d+\.\d s\) is in Assets/)).toBeVisible({
      timeout: 10_000,
    });
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'recordings-programs.png') });
    console.log(`  · clip made after ${Math.round((Date.now() - t0) / 1000)} s`);

    // --- The program stops: its recording plays on demand, with a normal seek bar.
    await row.getByRole('button', { name: 'Stop program Main event' }).click();
    await expect(row).toContainText('finished', { timeout: 10_000 });
    const stopped = (await (
      await request.get(`/api/v1/programs/${program.id}`, { headers: auth })
    ).json()) as ProgramView;
    await expect
      .poll(
        async () =>
          (
            (await (
              await request.get(`/api/v1/assets/${stopped.assetId}`, { headers: auth })
            ).json()) as AssetView
          ).status,
        { timeout: 15_000 },
      )
      .toBe('ready');
    await page.goto(`/watch/assets/${stopped.assetId}`);
    await expect(page.getByRole('heading', { name: 'Main event' })).toBeVisible({ timeout: 15_000 });
    await expect.poll(async () => (await playhead(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(1);
    await expect(page.getByTestId('seek-label')).toHaveText(/^\d+:\d\d \/ \d+:\d\d$/);
    await expect(page.getByRole('button', { name: /live/i })).toHaveCount(0);
    const duration = await page.getByTestId('live-video').evaluate((v: HTMLVideoElement) => v.duration);
    expect(duration).toBeGreaterThan(40);
    await page.getByTestId('live-video').evaluate((v: HTMLVideoElement) => {
      v.currentTime = v.duration / 2;
    });
    await expectAdvancing(page, 1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'recordings-vod.png') });
    console.log(`  · VOD checked after ${Math.round((Date.now() - t0) / 1000)} s`);

    // --- The assets page: the recording and the clip, with posters; unpublish; delete the clip.
    await page.goto('/console/assets');
    const cards = page.getByTestId('asset-card');
    await expect(cards.filter({ hasText: 'Main event' })).toBeVisible();
    const clipCard = cards.filter({ hasText: 'Best moment' });
    await expect(clipCard).toBeVisible();
    await expect(clipCard.getByRole('link', { name: 'Download MP4' })).toHaveAttribute(
      'href',
      /\/download\.mp4$/,
    );
    await expect
      .poll(async () =>
        cards
          .filter({ hasText: 'Main event' })
          .locator('img')
          .evaluate((img: HTMLImageElement) => img.naturalWidth),
      )
      .toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'recordings-assets.png'), fullPage: true });
    await clipCard.getByLabel('Published').uncheck();
    await expect(clipCard.getByLabel('Published')).not.toBeChecked();
    await clipCard.getByRole('button', { name: 'Delete Best moment' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete asset' }).click();
    await expect(clipCard).toHaveCount(0, { timeout: 10_000 });
  } finally {
    await publisher?.stop();
    await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: auth });
  }
});
