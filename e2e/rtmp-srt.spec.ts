/**
 * RTMP and SRT ingest as a new user would try them: the channel page shows the
 * RTMP server and key (OBS steps) and the SRT URL; FFmpeg, standing in for OBS
 * and a hardware encoder, publishes with exactly what the page shows; hls.js and
 * dash.js play. A multi-bitrate encoder's renditions play as a ladder.
 */
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import type { Channel } from '../lib/schemas.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { pushRtmp, pushRtmpRenditions, pushSrt, type Push } from '../test/helpers/ffmpeg-push.ts';
import { parseMaster } from './support/media.ts';
import {
  describeState,
  expectAdvanced,
  shownFrameLuma,
  measureAdvance,
  startDash,
  startHls,
  stopPlayer,
} from './support/players.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.describe.configure({ timeout: 150_000 });
test.use({ actionTimeout: 15_000 });

async function createStarted(request: APIRequestContext, data: Record<string, unknown>): Promise<Channel> {
  const created = await request.post('/api/v1/channels', { headers: admin, data });
  expect(created.status(), await created.text()).toBe(201);
  const channel = (await created.json()) as Channel;
  const started = await request.post(`/api/v1/channels/${channel.id}/start`, { headers: admin });
  expect(started.status(), await started.text()).toBe(200);
  return channel;
}

async function stopAndDelete(request: APIRequestContext, id: string): Promise<void> {
  await request.post(`/api/v1/channels/${id}/stop`, { headers: admin });
  await request.delete(`/api/v1/channels/${id}`, { headers: admin });
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/console/sign-in');
  await page.getByLabel('Admin token').fill(E2E_ADMIN_TOKEN);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/\/console$/);
}

async function masterWith(request: APIRequestContext, id: string, variants: number): Promise<string> {
  const t = Date.now();
  for (;;) {
    const res = await request.get(`/live/${id}/master.m3u8`);
    const text = res.status() === 200 ? await res.text() : '';
    if ((text.match(/#EXT-X-STREAM-INF/g) ?? []).length === variants) return text;
    if (Date.now() - t > 40_000) throw new Error(`no master with ${variants} variants: ${text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Plays `url` in hls.js or dash.js for `seconds` of media and checks the picture. */
async function plays(page: Page, kind: 'hls' | 'dash', url: string, shot: string): Promise<void> {
  await page.goto('/console');
  if (kind === 'hls') await startHls(page, url);
  else await startDash(page, url);
  const adv = await measureAdvance(page, 6, { startupMs: 20_000, advanceMs: 25_000 });
  console.log(`  · ${kind}: startup ${adv.startupMs} ms, ${describeState(adv.state)}`);
  expectAdvanced(adv, 6);
  const luma = await shownFrameLuma(page);
  expect(luma.mean, 'the frame is black').toBeGreaterThan(30);
  expect(luma.std, 'the frame is flat').toBeGreaterThan(5);
  await page.screenshot({ path: path.join(ARTIFACTS, shot) });
  await stopPlayer(page);
}

test('OBS-style RTMP settings from the channel page publish to an encode channel; hls.js and dash.js play', async ({
  page,
  context,
  request,
}) => {
  const channel = await createStarted(request, { name: 'RTMP encoder', mode: 'encode', ladder: '720p' });
  let push: Push | undefined;
  let backup: Push | undefined;
  try {
    await signIn(page);
    await page.goto(`/console/channels/${channel.id}`);
    const ingest = page.getByRole('region', { name: 'Ingest' });
    await expect(ingest.getByRole('heading', { name: 'RTMP' })).toBeVisible();
    const server = await ingest.getByLabel('Server', { exact: true }).inputValue();
    expect(server).toBe(channel.urls.rtmp);
    const backupServer = await ingest.getByLabel('Backup server', { exact: true }).inputValue();
    expect(backupServer).toBe(channel.urls.rtmpBackup);
    await ingest.locator('summary').filter({ hasText: 'Publish from OBS Studio' }).first().click();
    await expect(ingest.getByText('Keyframe Interval')).toBeVisible();
    await ingest.screenshot({ path: path.join(ARTIFACTS, 'ingest-panel-rtmp.png') });
    // OBS joins the server and the key with a slash.
    // ultrafast: on a 2-core machine the ladder encoder, two publishers and the players share the
    // CPU, and the frame rate the Health panel shows is the publisher's own.
    push = pushRtmp(`${server}/${channel.streamKey}`, { preset: 'ultrafast' });
    const master = parseMaster(await masterWith(request, channel.id, 3));
    expect(master.variants.map((v) => v.height)).toEqual([720, 480, 360]);
    const viewer = await context.newPage();
    await plays(viewer, 'hls', `/live/${channel.id}/master.m3u8`, 'rtmp-hls.png');
    await plays(viewer, 'dash', `/live/${channel.id}/manifest.mpd`, 'rtmp-dash.png');
    // A second encoder on the backup server: the backup input, ready to take over.
    backup = pushRtmp(`${backupServer}/${channel.streamKey}`, {
      width: 640,
      height: 360,
      preset: 'ultrafast',
    });
    await page.reload();
    const health = page.getByRole('region', { name: 'Health' });
    await expect(health.getByText(/^RTMP, (29|30|31)(\.\d)? fps$/)).toBeVisible({ timeout: 10_000 });
    const backupInput = page.getByTestId('input-backup');
    await expect(backupInput).toContainText('Standby', { timeout: 15_000 });
    await expect(backupInput).toContainText('rtmp');
    await page
      .getByRole('region', { name: 'Redundant inputs' })
      .screenshot({ path: path.join(ARTIFACTS, 'inputs-rtmp.png') });
    await page
      .getByRole('region', { name: 'Health' })
      .screenshot({ path: path.join(ARTIFACTS, 'health-rtmp.png') });
  } finally {
    await push?.kill();
    await backup?.kill();
    await stopAndDelete(request, channel.id);
  }
});

test('the SRT URL from the channel page publishes to a passthrough channel; hls.js plays the publisher’s stream', async ({
  page,
  context,
  request,
}) => {
  const channel = await createStarted(request, { name: 'SRT encoder', mode: 'passthrough' });
  let push: Push | undefined;
  try {
    await signIn(page);
    await page.goto(`/console/channels/${channel.id}`);
    const ingest = page.getByRole('region', { name: 'Ingest' });
    const field = ingest.getByRole('textbox', { name: 'SRT URL (OBS, FFmpeg: latency in µs)', exact: true });
    const url = await field.inputValue();
    expect(url).toBe(channel.urls.srt);
    push = pushSrt(url);
    await masterWith(request, channel.id, 1);
    const viewer = await context.newPage();
    await plays(viewer, 'hls', `/live/${channel.id}/master.m3u8`, 'srt-hls.png');
  } finally {
    await push?.kill();
    await stopAndDelete(request, channel.id);
  }
});

test('a multi-bitrate encoder’s three renditions play as a ladder without onair encoding anything', async ({
  page,
  context,
  request,
}) => {
  const channel = await createStarted(request, { name: 'Multi-bitrate encoder', mode: 'passthrough-abr' });
  let push: Push | undefined;
  try {
    push = pushRtmpRenditions(`${channel.urls.rtmp!}/${channel.streamKey}`, [
      { name: '720p', width: 1280, height: 720, kbps: 2500 },
      { name: '480p', width: 854, height: 480, kbps: 1200 },
      { name: '360p', width: 640, height: 360, kbps: 700 },
    ]);
    const master = parseMaster(await masterWith(request, channel.id, 3));
    expect(master.variants.map((v) => v.height)).toEqual([720, 480, 360]);
    const stats = (await (
      await request.get(`/api/v1/channels/${channel.id}/stats`, { headers: admin })
    ).json()) as {
      encoder: { mode: string; renditions: string[] };
    };
    expect(stats.encoder.mode).toBe('passthrough-abr');
    expect(stats.encoder.renditions).toEqual(['720p', '480p', '360p']);
    const viewer = await context.newPage();
    await plays(viewer, 'hls', `/live/${channel.id}/master.m3u8`, 'abr-hls.png');
    await plays(viewer, 'dash', `/live/${channel.id}/manifest.mpd`, 'abr-dash.png');
    await signIn(page);
    await page.goto(`/console/channels/${channel.id}`);
    await expect(
      page.getByRole('region', { name: 'Health' }).getByText(/Renditions received: 720p/),
    ).toBeVisible({
      timeout: 10_000,
    });
    await page
      .getByRole('region', { name: 'Ingest' })
      .getByText('Send several renditions (multi-bitrate)')
      .click();
    await page.screenshot({ path: path.join(ARTIFACTS, 'channel-abr.png'), fullPage: true });
  } finally {
    await push?.kill();
    await stopAndDelete(request, channel.id);
  }
});
