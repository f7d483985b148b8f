/**
 * Real-time playback end to end in Debian's Chromium: the fake camera published
 * over WHIP from one page, played over WHEP straight from the SFU in others —
 * a bare RTCPeerConnection (decoded frames rise, audio arrives), the watch page
 * in Real-time mode (it waits on 409 and starts when the publisher goes live),
 * the chromeless embed, and the console's preview (and its HLS fallback where
 * WebRTC is missing). The publisher leaves and comes back: the players wait
 * and recover without a new session. Screenshots: e2e/artifacts/whep-*.png.
 */
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ChannelStats } from '../lib/api-client.ts';
import type { Channel } from '../lib/schemas.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { stopWhepInPage, watchWhepInPage, whepAudioPeak, whepStats } from './support/whep.ts';
import { publishFakeCamera, unpublish } from '../test/helpers/browser-whip.ts';
import { reporter } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.describe.configure({ timeout: 180_000 });

/** Page errors and console errors go to `sink`. */
function watchPage(page: Page, name: string, sink: string[]): void {
  page.on('pageerror', (err) => sink.push(`${name}: pageerror ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Expected refusals show as failed fetches: 409 while there is nothing to watch yet, and 404
    // for the goodbye DELETE of a session the server has already ended (the channel stopped).
    const url = msg.location().url;
    if (/\/whep\/[^/]+$/.test(url) && /status of 409/.test(msg.text())) return;
    if (/\/whep\/[^/]+\/sessions\//.test(url) && /status of 404/.test(msg.text())) return;
    sink.push(`${name}: console ${msg.text()} (${url})`);
  });
}

/** Resolves once the page's live player has decoded `frames` more frames (real time: its video's own counter). */
async function expectFramesRising(page: Page, frames = 20): Promise<void> {
  const count = () =>
    page
      .locator('video[data-testid=live-video]')
      .evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
  const start = await count();
  await expect
    .poll(async () => (await count()) - start, { timeout: 20_000, intervals: [250] })
    .toBeGreaterThan(frames);
}

test('real-time playback over WHEP: raw viewer, watch page, embed and console preview; the publisher leaves and comes back', async ({
  context,
  request,
}, testInfo) => {
  const note = reporter(testInfo, 'timing');
  const problems: string[] = [];
  const publisher = await context.newPage();
  const viewer = await context.newPage();
  const watch = await context.newPage();
  watchPage(publisher, 'publisher', problems);
  watchPage(viewer, 'viewer', problems);
  watchPage(watch, 'watch', problems);
  let channel: Channel | undefined;
  let running = false;
  const stats = async (): Promise<ChannelStats> =>
    (await (
      await request.get(`/api/v1/channels/${channel?.id ?? ''}/stats`, { headers: admin })
    ).json()) as ChannelStats;

  try {
    await test.step('1. a running channel with no publisher: the watch page in Real-time mode waits', async () => {
      const created = await request.post('/api/v1/channels', {
        headers: admin,
        // No slate: the players are to wait (paused) while the publisher is away.
        data: { name: 'e2e real time', mode: 'encode', ladder: '480p', segmentSeconds: 2, slateAfterMs: 0 },
      });
      expect(created.status(), await created.text()).toBe(201);
      channel = (await created.json()) as Channel;
      expect(channel.urls.whep).toMatch(/\/whep\/ch_/);
      const started = await request.post(`/api/v1/channels/${channel.id}/start`, { headers: admin });
      expect(started.status(), await started.text()).toBe(200);
      running = true;
      await watch.goto(`/watch/${channel.id}?protocol=webrtc`);
      const player = watch.locator('[data-status]').first();
      await expect(player).toHaveAttribute('data-status', 'offline', { timeout: 15_000 });
      await expect(player).toHaveAttribute('data-protocol', 'webrtc');
      await expect(watch.getByText('Waiting for the stream')).toBeVisible();
      await expect(watch.getByLabel('Protocol')).toHaveValue('webrtc');
      await watch.screenshot({ path: path.join(ARTIFACTS, 'whep-watch-waiting.png') });
    });

    let codec = '';
    await test.step('2. the fake camera goes live over WHIP; the waiting watch page starts by itself', async () => {
      if (!channel) throw new Error('no channel');
      await publisher.goto('/console/sign-in');
      const pub = await publishFakeCamera(publisher, channel.urls.whip, channel.streamKey);
      expect(pub.status).toBe(201);
      codec = pub.videoCodec;
      note(`publisher connected in ${pub.connectMs} ms, ${codec}`);
      const player = watch.locator('[data-status]').first();
      const t = Date.now();
      await expect(player).toHaveAttribute('data-status', 'playing', { timeout: 20_000 });
      note(`the waiting watch page played ${Date.now() - t} ms after the publisher connected`);
      await expect(player).toHaveAttribute('data-engine', 'webrtc');
      await expectFramesRising(watch);
      await expect(watch.getByTestId('latency')).toHaveText(/^\d+ ms delay$/, { timeout: 10_000 });
      note(`watch page: ${await watch.getByTestId('latency').textContent()}`);
      await watch.screenshot({ path: path.join(ARTIFACTS, 'whep-watch.png') });
    });

    await test.step('3. a bare WHEP viewer: the first frame fast, frames keep coming, audio arrives', async () => {
      if (!channel) throw new Error('no channel');
      // A same-origin page without React: the viewer replaces the page's body, which would break a
      // React page still hydrating (error #418).
      await viewer.goto('/healthz');
      // In a background tab Chromium holds back video frame callbacks: the first frame would read late.
      await viewer.bringToFront();
      const r = await watchWhepInPage(viewer, channel.urls.whep);
      note(
        `WHEP POST ${r.postMs.toFixed(0)} ms, first decoded frame ${r.firstFrameMs.toFixed(0)} ms after the POST`,
      );
      // The answer offers only what the publisher sends: its video codec and Opus.
      const rtpmaps = [...r.answer.matchAll(/^a=rtpmap:\d+ ([\w-]+)\//gm)].map((m) => m[1]!.toUpperCase());
      expect(rtpmaps, r.answer).toEqual([codec.toUpperCase(), 'OPUS']);
      expect(r.answer).toMatch(/^a=sendonly$/m);
      const a = await whepStats(viewer);
      await viewer.waitForTimeout(3000);
      const b = await whepStats(viewer);
      note(
        `viewer: ${b.videoCodec} ${b.frameWidth}x${b.frameHeight}, +${b.framesDecoded - a.framesDecoded} frames in 3 s, jitter buffer ${b.jitterBufferMs?.toFixed(0)} ms, audio +${b.audioPackets - a.audioPackets} packets`,
      );
      expect(b.connectionState).toBe('connected');
      expect(b.framesDecoded - a.framesDecoded, 'decoded video frames rise').toBeGreaterThan(30);
      expect(b.audioPackets - a.audioPackets, 'audio packets arrive').toBeGreaterThan(100);
      expect(b.audioSamples, 'audio is decoded').toBeGreaterThan(a.audioSamples);
      const peak = await whepAudioPeak(viewer);
      note(`received audio peaks at ${peak.toFixed(3)} of full scale`);
      expect(peak, 'the fake microphone’s beep is heard').toBeGreaterThan(0.01);
      expect(b.frameWidth).toBeGreaterThan(0);
      await viewer.screenshot({ path: path.join(ARTIFACTS, 'whep-viewer.png') });
    });

    await test.step('4. the chromeless embed plays in real time', async () => {
      if (!channel) throw new Error('no channel');
      const embed = await context.newPage();
      watchPage(embed, 'embed', problems);
      await embed.setViewportSize({ width: 640, height: 360 });
      await embed.goto(`/embed/${channel.id}?protocol=webrtc&controls=0`);
      await expect(embed.locator('[data-status]').first()).toHaveAttribute('data-status', 'playing', {
        timeout: 20_000,
      });
      await expect(embed.getByTestId('realtime-badge')).toContainText('Real-time');
      await expectFramesRising(embed);
      await embed.screenshot({ path: path.join(ARTIFACTS, 'whep-embed.png') });
      await embed.close();
    });

    await test.step('5. the console preview plays over WHEP; without WebRTC it falls back to HLS', async () => {
      if (!channel) throw new Error('no channel');
      const consolePage = await context.newPage();
      watchPage(consolePage, 'console', problems);
      await consolePage.setViewportSize({ width: 1280, height: 800 });
      await consolePage.goto('/console/sign-in');
      await consolePage.getByLabel('Admin token').fill(E2E_ADMIN_TOKEN);
      await consolePage.getByRole('button', { name: 'Sign in' }).click();
      await expect(consolePage).toHaveURL(/\/console$/);
      const t = Date.now();
      await consolePage.goto(`/console/channels/${channel.id}`);
      const region = consolePage.getByRole('region', { name: 'Preview' });
      const preview = region.locator('[data-status]');
      await expect(preview).toHaveAttribute('data-status', 'playing', { timeout: 20_000 });
      note(`console preview playing ${Date.now() - t} ms after the page was opened`);
      await expect(preview).toHaveAttribute('data-protocol', 'webrtc');
      await expect(region.getByTestId('realtime-badge')).toContainText(/Real-time/);
      await expectFramesRising(consolePage);
      // The watch page, the bare viewer and this preview (the embed said goodbye when it closed).
      await expect(consolePage.getByTestId('realtime-viewers')).toContainText(
        /^Real-time viewers\s*3 of 200$/,
        {
          timeout: 10_000,
        },
      );
      await region.scrollIntoViewIfNeeded();
      await consolePage.screenshot({ path: path.join(ARTIFACTS, 'whep-console-preview.png') });
      await consolePage.close();

      // A browser without WebRTC: the preview says so and plays the HLS output instead.
      const noRtc = await context.newPage();
      watchPage(noRtc, 'console without WebRTC', problems);
      await noRtc.addInitScript(() => {
        Object.defineProperty(window, 'RTCPeerConnection', { value: undefined, configurable: true });
      });
      await noRtc.setViewportSize({ width: 1280, height: 800 });
      await noRtc.goto(`/console/channels/${channel.id}`);
      const fallbackRegion = noRtc.getByRole('region', { name: 'Preview' });
      const fallback = fallbackRegion.locator('[data-status]');
      await expect(fallback).toHaveAttribute('data-protocol', 'hls', { timeout: 10_000 });
      await expect(fallback).toHaveAttribute('data-status', 'playing', { timeout: 40_000 });
      await expect(fallbackRegion.getByTestId('fallback-note')).toContainText('HLS');
      await fallbackRegion.scrollIntoViewIfNeeded();
      await noRtc.screenshot({ path: path.join(ARTIFACTS, 'whep-console-preview-hls-fallback.png') });
      await noRtc.close();
    });

    await test.step('6. the publisher leaves: players wait; it comes back: they continue on the same session', async () => {
      if (!channel) throw new Error('no channel');
      const before = await whepStats(viewer);
      expect(await unpublish(publisher)).toBe(200);
      const player = watch.locator('[data-status]').first();
      await expect(player).toHaveAttribute('data-status', 'offline', { timeout: 15_000 });
      await expect(watch.getByText('The stream paused')).toBeVisible();
      await watch.screenshot({ path: path.join(ARTIFACTS, 'whep-watch-paused.png') });
      // The watch page and the bare viewer wait; the closed embed and console pages have gone
      // (their DELETE on pagehide, or the server's silence timeout).
      await expect
        .poll(async () => (await stats()).viewers?.count, {
          timeout: 25_000,
          message: 'viewers wait for the next publisher',
        })
        .toBe(2);
      const away = await whepStats(viewer);
      expect(away.connectionState).toBe('connected');

      const again = await publishFakeCamera(publisher, channel.urls.whip, channel.streamKey);
      expect(again.status).toBe(201);
      const t = Date.now();
      await expect(player).toHaveAttribute('data-status', 'playing', { timeout: 20_000 });
      note(`watch page playing again ${Date.now() - t} ms after the publisher came back`);
      await expectFramesRising(watch);
      await expect
        .poll(async () => (await whepStats(viewer)).framesDecoded - away.framesDecoded, { timeout: 15_000 })
        .toBeGreaterThan(20);
      const after = await whepStats(viewer);
      expect(after.connectionState, 'the same peer connection, no renegotiation').toBe('connected');
      expect(after.framesDecoded).toBeGreaterThan(before.framesDecoded);
      expect(after.audioPackets).toBeGreaterThan(away.audioPackets);
      await watch.screenshot({ path: path.join(ARTIFACTS, 'whep-watch-back.png') });
    });

    await test.step('7. DELETE ends a session; stopping the channel ends the rest', async () => {
      if (!channel) throw new Error('no channel');
      expect(await stopWhepInPage(viewer)).toBe(200);
      await expect.poll(async () => (await stats()).viewers?.count, { timeout: 5_000 }).toBe(1);
      const stopped = await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
      expect(stopped.status(), await stopped.text()).toBe(200);
      running = false;
      expect((await stats()).viewers).toBeNull();
      // The watch page notices, and waits for the channel to come back.
      await expect(
        watch.getByText(/The channel is offline|Waiting for the stream|connection was lost/),
      ).toBeVisible({
        timeout: 45_000,
      });
      await watch.screenshot({ path: path.join(ARTIFACTS, 'whep-watch-stopped.png') });
      expect(problems).toEqual([]);
    });
  } finally {
    if (channel && running) await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
  }
});
