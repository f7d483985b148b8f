/**
 * Token-protected playback in Debian's Chromium, as a producer and viewers meet it:
 * the fake camera goes live on a channel whose playback is `token`; hls.js and
 * dash.js play the minted URLs unmodified (the token is in the path, so every
 * relative URI of the playlists and MPD carries it); the signed watch link plays
 * and the unsigned one says the stream is private; without a token, with an
 * expired one or another channel's, the playlist and a segment asked for directly
 * answer 401/403. The console shows the protection and makes a signed link.
 */
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import type { Channel, PlaybackToken } from '../lib/schemas.ts';
import { PlaybackTokens } from '../server/auth/playback-token.ts';
import { E2E_ADMIN_TOKEN, E2E_DATA_DIR } from '../playwright.config.ts';
import { expectAdvanced, measureAdvance, startDash, startHls, stopPlayer } from './support/players.ts';
import { publishFakeCamera, unpublish } from '../test/helpers/browser-whip.ts';
import { reporter } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.describe.configure({ timeout: 180_000 });

async function waitFor200(request: APIRequestContext, url: string, timeoutMs: number): Promise<string> {
  const t = Date.now();
  let last = '';
  while (Date.now() - t < timeoutMs) {
    const res = await request.get(url);
    if (res.status() === 200) return res.text();
    last = `${res.status()} ${(await res.text()).slice(0, 200)}`;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not 200 after ${timeoutMs} ms (last: ${last})`);
}

/** Every /live/ response of a page: its status and whether the path carried a token. */
function recordLive(page: Page, sink: { status: number; path: string }[]): void {
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/live/')) sink.push({ status: r.status(), path: u.pathname });
  });
}

async function expectError(
  request: APIRequestContext,
  url: string,
  status: number,
  code: string,
): Promise<void> {
  const res = await request.get(url, { maxRedirects: 0 });
  const text = await res.text();
  expect(res.status(), `${url}: ${text}`).toBe(status);
  expect(res.headers()['content-type']).toMatch(/^application\/json/);
  expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe(code);
}

test('a token-protected channel plays with a signed link in hls.js, dash.js and the watch page, and nowhere without one', async ({
  context,
  request,
}, testInfo) => {
  const note = reporter(testInfo, 'timing');
  const problems: string[] = [];
  const publisher = await context.newPage();
  publisher.on('pageerror', (e) => problems.push(`publisher: ${e.message}`));
  let channel: Channel | undefined;
  try {
    // --- A channel that needs a token, live from the fake camera.
    const created = await request.post('/api/v1/channels', {
      headers: admin,
      data: { name: 'Private briefing', mode: 'passthrough', playback: 'token' },
    });
    expect(created.status(), await created.text()).toBe(201);
    channel = (await created.json()) as Channel;
    expect(channel.playback).toBe('token');
    const other = (await (
      await request.post('/api/v1/channels', { headers: admin, data: { name: 'Another', playback: 'token' } })
    ).json()) as Channel;
    expect((await request.post(`/api/v1/channels/${channel.id}/start`, { headers: admin })).status()).toBe(
      200,
    );
    await publisher.goto('/console');
    const published = await publishFakeCamera(publisher, channel.urls.whip, channel.streamKey);
    note(`WHIP 201, ${published.videoCodec}, connected in ${published.connectMs} ms`);

    const minted = await request.post(`/api/v1/channels/${channel.id}/playback-tokens`, {
      headers: admin,
      data: { expiresInSeconds: 3600 },
    });
    expect(minted.status(), await minted.text()).toBe(201);
    const token = (await minted.json()) as PlaybackToken;
    expect(token.urls.hls).toContain(`/live/${channel.id}/t/${token.token}/master.m3u8`);
    const master = await waitFor200(request, token.urls.hls, 40_000);
    expect(master).toContain('#EXTM3U');

    // --- hls.js and dash.js, unmodified, on the minted URLs.
    for (const kind of ['hls', 'dash'] as const) {
      const page = await context.newPage();
      const seen: { status: number; path: string }[] = [];
      recordLive(page, seen);
      page.on('pageerror', (e) => problems.push(`${kind}: ${e.message}`));
      await page.goto('/console');
      if (kind === 'hls') await startHls(page, token.urls.hls);
      else await startDash(page, token.urls.dash);
      const adv = await measureAdvance(page, 4, { startupMs: 30_000, advanceMs: 25_000 });
      note(
        `${kind}: +${(adv.to - adv.from).toFixed(2)} s in ${adv.wallMs} ms, ${seen.length} media requests`,
      );
      expectAdvanced(adv, 4);
      await page.screenshot({ path: path.join(ARTIFACTS, `playback-token-${kind}.png`) });
      await stopPlayer(page);
      // Every request the player made carried the token (relative URIs resolved under it), none was refused.
      expect(seen.length).toBeGreaterThan(3);
      for (const r of seen) {
        expect(r.path, 'a media request without the token').toContain(`/t/${token.token}/`);
        expect(r.status, r.path).toBeLessThan(400);
      }
      expect(seen.some((r) => r.path.endsWith('.m4s'))).toBe(true);
      await page.close();
    }

    // --- Without a token, with an expired one, with another channel's: 401/403, never media.
    const segmentPath = await (async () => {
      const playlistRel = master.split('\n').find((l) => l.endsWith('.m3u8') && !l.startsWith('#'));
      const playlist = await waitFor200(request, new URL(playlistRel ?? '', token.urls.hls).href, 10_000);
      const seg = playlist.split('\n').find((l) => l.endsWith('.m4s'));
      expect(seg, playlist).toBeTruthy();
      return seg ?? '';
    })();
    const bare = `/live/${channel.id}`;
    const expired = PlaybackTokens.open(E2E_DATA_DIR).mint(
      { channelId: channel.id },
      new Date(Date.now() - 60_000),
    );
    const othersToken = (
      (await (
        await request.post(`/api/v1/channels/${other.id}/playback-tokens`, { headers: admin, data: {} })
      ).json()) as PlaybackToken
    ).token;
    for (const rel of ['master.m3u8', 'manifest.mpd', segmentPath]) {
      await expectError(request, `${bare}/${rel}`, 401, 'token_required');
      await expectError(request, `${bare}/t/${expired}/${rel}`, 401, 'token_expired');
      await expectError(request, `${bare}/t/${othersToken}/${rel}`, 403, 'token_invalid');
    }

    // --- The signed watch link plays; the unsigned one explains.
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => problems.push(`viewer: ${e.message}`));
    await viewer.setViewportSize({ width: 1280, height: 800 });
    await viewer.goto(new URL(token.urls.watch).pathname + new URL(token.urls.watch).search);
    const video = viewer.getByTestId('live-video');
    await expect
      .poll(async () => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 45_000 })
      .toBeGreaterThan(2);
    await expect(viewer.getByRole('heading', { name: 'Private briefing' })).toBeVisible();
    await viewer.screenshot({ path: path.join(ARTIFACTS, 'playback-token-watch.png') });
    // Switching to DASH keeps the token in the address.
    await viewer.getByLabel('Protocol').selectOption('dash');
    await expect(viewer).toHaveURL(new RegExp(`token=${token.token.replace(/\./g, '\\.')}`));
    await expect(viewer).toHaveURL(/protocol=dash/);
    await expect(viewer.locator('[data-engine="dash.js"]')).toBeVisible({ timeout: 15_000 });

    const stranger = await context.newPage();
    await stranger.setViewportSize({ width: 375, height: 740 });
    await stranger.goto(`/watch/${channel.id}`);
    await expect(stranger.getByText('This stream is private')).toBeVisible({ timeout: 15_000 });
    await stranger.screenshot({ path: path.join(ARTIFACTS, 'playback-token-unsigned-375.png') });
    await stranger.close();
    await viewer.close();

    // --- The console: protection shown, a signed link made, the preview plays with the console's own token.
    const consolePage = await context.newPage();
    consolePage.on('pageerror', (e) => problems.push(`console: ${e.message}`));
    await consolePage.setViewportSize({ width: 1280, height: 900 });
    expect(
      (await consolePage.request.post('/auth/session', { data: { token: E2E_ADMIN_TOKEN } })).status(),
    ).toBe(200);
    await consolePage.goto(`/console/channels/${channel.id}`);
    const panel = consolePage.getByRole('region', { name: 'Playback' });
    await expect(panel.getByRole('radio', { name: /Only with a signed link/ })).toBeChecked();
    await panel.getByLabel('Link valid for').selectOption(String(7 * 24 * 3600));
    await panel.getByRole('button', { name: 'Create a signed link' }).click();
    const signed = panel.getByRole('textbox', { name: 'Signed watch link' });
    await expect(signed).toHaveValue(new RegExp(`/watch/${channel.id}\\?token=v1\\.`));
    await expect(panel.getByRole('textbox', { name: 'Embed snippet (script)' })).toHaveValue(/token="v1\./);
    const preview = consolePage.getByRole('region', { name: 'Preview' }).getByTestId('live-video');
    await expect
      .poll(async () => preview.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 45_000 })
      .toBeGreaterThan(1);
    await panel.screenshot({ path: path.join(ARTIFACTS, 'playback-token-console-panel.png') });
    await consolePage.screenshot({
      path: path.join(ARTIFACTS, 'playback-token-console.png'),
      fullPage: true,
    });
    // The signed link from the console works in a fresh page.
    const fromConsole = await signed.inputValue();
    const shared = await context.newPage();
    await shared.goto(new URL(fromConsole).pathname + new URL(fromConsole).search);
    await expect
      .poll(async () => shared.getByTestId('live-video').evaluate((v: HTMLVideoElement) => v.currentTime), {
        timeout: 45_000,
      })
      .toBeGreaterThan(1);
    await shared.close();
    await consolePage.close();
    expect(problems).toEqual([]);
  } finally {
    await unpublish(publisher).catch(() => undefined);
    if (channel) await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
  }
});
