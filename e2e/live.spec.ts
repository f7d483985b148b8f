/**
 * The live path end to end in Debian's Chromium: the fake camera published over WHIP
 * to an encode channel, the ABR ladder played as HLS in hls.js and as DASH in dash.js,
 * the segments probed with ffprobe, a publisher that disconnects and comes back while
 * hls.js and dash.js keep playing, and a clean stop.
 *
 * Pages (one browser context): `publisher` holds the WHIP peer connection, `hlsPage`
 * and `dashPage` each hold one player, all on the server's origin (a secure context).
 */
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { LADDERS } from '../lib/ladders.ts';
import type { Channel } from '../lib/schemas.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { ffprobeSegments, newestSegment, parseMaster } from './support/media.ts';
import {
  describeState,
  expectAdvanced,
  shownFrameLuma,
  measureAdvance,
  playerState,
  startDash,
  startHls,
  stopPlayer,
  type PlayerState,
} from './support/players.ts';
import {
  publishFakeCamera,
  publisherVideoStats,
  unpublish,
  type PublishResult,
} from '../test/helpers/browser-whip.ts';
import { reporter } from './support/live.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const LADDER = LADDERS['720p'];
const SEGMENT_SECONDS = 2;
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test.describe.configure({ timeout: 150_000 });

/** Polls a URL until it answers 200; returns its body and how long that took. */
async function waitFor200(
  request: APIRequestContext,
  url: string,
  timeoutMs: number,
): Promise<{ text: string; ms: number }> {
  const t = Date.now();
  let last = 'no response';
  while (Date.now() - t < timeoutMs) {
    const res = await request.get(url);
    if (res.status() === 200) return { text: await res.text(), ms: Date.now() - t };
    last = `${res.status()} ${(await res.text()).slice(0, 200)}`;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not 200 after ${timeoutMs} ms (last: ${last})`);
}

/** Page errors and console errors go to `sink`; every /live/ response (time, status, path) to `requests`. */
function watchPage(page: Page, name: string, sink: string[], requests: string[] = []): void {
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/live/'))
      requests.push(
        `${new Date().toISOString().slice(11, 23)} ${r.status()} ${u.pathname.split('/').slice(3).join('/')}`,
      );
  });
  page.on('pageerror', (err) => sink.push(`${name}: pageerror ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') sink.push(`${name}: console ${msg.text()}`);
  });
}

/**
 * The player started on `page` plays ≥ 6 s without a fatal error and shows a picture neither black nor
 * flat (`format` names it in the messages); the figures go to the report, the picture to `shot`.
 */
async function expectPlaysPicture(
  page: Page,
  player: 'hls.js' | 'dash.js',
  format: 'HLS' | 'DASH',
  shot: string,
  note: (msg: string) => void,
): Promise<void> {
  const adv = await measureAdvance(page, 6, { startupMs: 20_000, advanceMs: 25_000 });
  note(
    `${player}: startup ${adv.startupMs} ms, +${(adv.to - adv.from).toFixed(2)} s in ${adv.wallMs} ms; ${describeState(adv.state)}`,
  );
  expectAdvanced(adv, 6);
  const luma = await shownFrameLuma(page);
  note(
    `${player} frame ${luma.width}x${luma.height} luma mean ${luma.mean.toFixed(1)} std ${luma.std.toFixed(1)}`,
  );
  expect(luma.mean, `the ${format} frame is black`).toBeGreaterThan(30);
  expect(luma.std, `the ${format} frame is flat`).toBeGreaterThan(5);
  await page.screenshot({ path: path.join(ARTIFACTS, shot) });
}

test('a fake camera published over WHIP plays as HLS and DASH with every rendition, across a publisher reconnect', async ({
  context,
  request,
}, testInfo) => {
  const note = reporter(testInfo, 'timing');
  const pageProblems: string[] = [];
  const publisher = await context.newPage();
  const hlsPage = await context.newPage();
  const dashPage = await context.newPage();
  const dashRequests: string[] = [];
  const hlsRequests: string[] = [];
  watchPage(publisher, 'publisher', pageProblems);
  watchPage(hlsPage, 'hls', pageProblems, hlsRequests);
  watchPage(dashPage, 'dash', pageProblems, dashRequests);

  let channel: Channel | undefined;
  let running = false;
  let firstPublish: PublishResult | undefined;
  const live = (rel: string): string => `/live/${channel?.id ?? ''}/${rel}`;

  try {
    await test.step('1. create and start an encode channel, publish the fake camera over WHIP', async () => {
      const created = await request.post('/api/v1/channels', {
        headers: admin,
        // No slate: this run checks the players across a publisher's reconnect (a new run, a
        // discontinuity); the slate that covers a gap in the same run is failover.spec.ts's.
        data: {
          name: 'e2e live',
          mode: 'encode',
          ladder: '720p',
          segmentSeconds: SEGMENT_SECONDS,
          slateAfterMs: 0,
        },
      });
      expect(created.status(), await created.text()).toBe(201);
      channel = (await created.json()) as Channel;
      const started = await request.post(`/api/v1/channels/${channel.id}/start`, { headers: admin });
      expect(started.status(), await started.text()).toBe(200);
      running = true;
      expect(((await started.json()) as Channel).state).toBe('running');

      await publisher.goto('/console');
      firstPublish = await publishFakeCamera(publisher, channel.urls.whip, channel.streamKey);
      expect(firstPublish.status).toBe(201);
      expect(firstPublish.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(firstPublish.answer).toMatch(/^v=0/);
      note(
        `WHIP 201 + ICE connected in ${firstPublish.connectMs} ms, video codec ${firstPublish.videoCodec}`,
      );
    });

    await test.step('2. the master playlist lists every rendition of the ladder', async () => {
      const master = await waitFor200(request, live('master.m3u8'), 30_000);
      note(
        `WHIP 201 → master.m3u8 200: ${Date.now() - (firstPublish?.createdAt ?? Date.now())} ms (polled ${master.ms} ms)`,
      );
      const m = parseMaster(master.text);
      expect(master.text.startsWith('#EXTM3U'), master.text).toBe(true);
      expect(master.text, master.text).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
      expect(
        m.variants.map((v) => `${v.width}x${v.height}`),
        master.text,
      ).toEqual(LADDER.renditions.map((r) => `${r.width}x${r.height}`));
      for (const v of m.variants) {
        expect(v.attrs.CODECS, master.text).toMatch(/avc1\.[0-9a-fA-F]{6}/);
        expect(v.attrs.CODECS, master.text).toContain('mp4a.40.2');
        expect(Number(v.attrs.BANDWIDTH), master.text).toBeGreaterThan(0);
        expect(Number(v.attrs['FRAME-RATE']), master.text).toBeGreaterThan(0);
      }
      expect(
        m.media.filter((x) => x.type === 'AUDIO'),
        master.text,
      ).toHaveLength(1);
      const stats = await publisherVideoStats(publisher);
      note(
        `publisher sends ${stats.codec} ${stats.frameWidth}x${stats.frameHeight} @ ${stats.framesPerSecond} fps`,
      );
    });

    await test.step('3. hls.js plays master.m3u8: currentTime advances ≥ 6 s, no fatal error', async () => {
      await hlsPage.goto('/console');
      await startHls(hlsPage, live('master.m3u8'));
      await expectPlaysPicture(hlsPage, 'hls.js', 'HLS', 'live-hls.png', note);
    });

    await test.step('4. dash.js plays manifest.mpd: currentTime advances ≥ 6 s, no fatal error', async () => {
      await dashPage.goto('/console');
      await startDash(dashPage, live('manifest.mpd'));
      await expectPlaysPicture(dashPage, 'dash.js', 'DASH', 'live-dash.png', note);
    });

    await test.step('5. ffprobe: every video rendition is H.264 at its ladder size, audio is AAC', async () => {
      const master = parseMaster(await (await request.get(live('master.m3u8'))).text());
      const probe = async (playlistRel: string) => {
        const playlistUrl = new URL(live(playlistRel), 'http://x');
        const res = await request.get(playlistUrl.pathname);
        expect(res.status(), playlistRel).toBe(200);
        const text = await res.text();
        const newest = newestSegment(text);
        expect(newest, `${playlistRel} has no segment:\n${text}`).not.toBeNull();
        if (!newest) throw new Error('unreachable');
        const init = await request.get(new URL(newest.init, playlistUrl).pathname);
        const seg = await request.get(new URL(newest.segment, playlistUrl).pathname);
        expect(init.status(), newest.init).toBe(200);
        expect(seg.status(), newest.segment).toBe(200);
        return ffprobeSegments(await init.body(), await seg.body());
      };
      for (const r of LADDER.renditions) {
        const variant = master.variants.find((v) => v.width === r.width && v.height === r.height);
        expect(variant, `no ${r.width}x${r.height} variant`).toBeDefined();
        const streams = await probe(variant?.uri ?? '');
        const video = streams.filter((s) => s.codec_type === 'video');
        note(
          `ffprobe ${variant?.uri}: ${JSON.stringify(streams.map((s) => [s.codec_name, s.width, s.height, s.profile]))}`,
        );
        expect(video, JSON.stringify(streams)).toHaveLength(1);
        expect(video[0]).toMatchObject({ codec_name: 'h264', width: r.width, height: r.height });
      }
      const audioUri = master.media.find((m) => m.type === 'AUDIO')?.uri ?? '';
      const streams = await probe(audioUri);
      note(
        `ffprobe ${audioUri}: ${JSON.stringify(streams.map((s) => [s.codec_name, s.sample_rate, s.channels]))}`,
      );
      const audio = streams.filter((s) => s.codec_type === 'audio');
      expect(audio, JSON.stringify(streams)).toHaveLength(1);
      expect(audio[0]).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    });

    await test.step('6. the publisher disconnects and reconnects: hls.js and dash.js keep playing', async () => {
      if (!channel) throw new Error('no channel');
      const before = { hls: await playerState(hlsPage), dash: await playerState(dashPage) };
      const mark = { hls: hlsRequests.length, dash: dashRequests.length };
      note(`DELETE of the WHIP session at ${new Date().toISOString()}`);
      const deleted = await unpublish(publisher);
      expect(deleted, 'DELETE on the WHIP session URL').toBe(200);
      const t0 = Date.now();
      await publisher.waitForTimeout(2_000);
      const again = await publishFakeCamera(publisher, channel.urls.whip, channel.streamKey);
      expect(again.status).toBe(201);
      expect(again.location).not.toBe(firstPublish?.location);
      note(
        `republished at ${new Date(again.createdAt).toISOString()}, ${again.createdAt - t0} ms after DELETE (ICE connected in ${again.connectMs} ms)`,
      );

      // The rendition playlists continue after an EXT-X-DISCONTINUITY.
      const playlistUri =
        parseMaster(await (await request.get(live('master.m3u8'))).text()).variants[0]?.uri ?? '';
      let playlist = '';
      const tDisc = Date.now();
      await expect
        .poll(
          async () => {
            playlist = await (await request.get(live(playlistUri))).text();
            return playlist.includes('#EXT-X-DISCONTINUITY\n');
          },
          { timeout: 25_000, intervals: [250] },
        )
        .toBe(true);
      note(
        `EXT-X-DISCONTINUITY in ${playlistUri} ${Date.now() - tDisc} ms after the reconnect:\n${playlist}`,
      );
      note(`manifest.mpd then:\n${await (await request.get(live('manifest.mpd'))).text()}`);

      // Each player must reach the new run (hls.js: a fragment with a new discontinuity
      // sequence; dash.js: a new Period) — the old run's buffer alone cannot satisfy this —
      // and then play ≥ 4 s more of it.
      /**
       * The player must reach the new run (hls.js: a fragment with a new discontinuity
       * sequence; dash.js: the new Period) — the old run's buffer alone cannot satisfy
       * this — and then play ≥ 4 s more. `check` is expect, or expect.soft to let the
       * remaining steps run and still fail the test.
       */
      const acrossReconnect = async (
        name: string,
        page: Page,
        prev: PlayerState,
        requests: string[],
        from: number,
        manifest: string,
        check: typeof expect,
      ): Promise<void> => {
        const tNew = Date.now();
        let state = await playerState(page);
        while (
          state.played.length <= prev.played.length &&
          Date.now() - tNew < 30_000 &&
          !state.errors.some((e) => e.fatal)
        ) {
          await page.waitForTimeout(250);
          state = await playerState(page);
        }
        note(`${name} before the reconnect: ${describeState(prev)}`);
        note(`${name} reached the new run after ${Date.now() - tNew} ms: ${describeState(state)}`);
        // Evidence for the report when the player does not get across: what it fetched since the DELETE, and the manifest now.
        const evidence = async (): Promise<void> => {
          note(`${name} /live/ requests since the DELETE:\n${requests.slice(from).join('\n')}`);
          note(`${manifest} now:\n${await (await request.get(live(manifest))).text()}`);
        };
        const reached = state.played.length > prev.played.length;
        if (!reached) await evidence();
        check(
          state.errors.filter((e) => e.fatal),
          `${name}: ${describeState(state)}`,
        ).toEqual([]);
        check(reached, `${name} never entered the post-reconnect content: ${describeState(state)}`).toBe(
          true,
        );
        if (!reached) return;
        const adv = await measureAdvance(page, 4, { advanceMs: 20_000, fromNow: true });
        note(
          `${name} after the reconnect: +${(adv.to - adv.from).toFixed(2)} s in ${adv.wallMs} ms; ${describeState(adv.state)}`,
        );
        if (adv.to - adv.from < 4) await evidence();
        check(
          adv.state.errors.filter((e) => e.fatal),
          `${name}: ${describeState(adv.state)}`,
        ).toEqual([]);
        check(
          adv.to - adv.from,
          `${name} stalled after the reconnect: ${describeState(adv.state)}`,
        ).toBeGreaterThanOrEqual(4);
        check(adv.state.currentTime).toBeGreaterThan(prev.currentTime);
      };
      await test.step('6a. hls.js crosses the EXT-X-DISCONTINUITY and keeps playing', () =>
        acrossReconnect('hls.js', hlsPage, before.hls, hlsRequests, mark.hls, 'master.m3u8', expect));
      // Soft: a DASH failure here still fails the test, after step 7 has run.
      await test.step('6b. dash.js enters the new Period and keeps playing', () =>
        acrossReconnect(
          'dash.js',
          dashPage,
          before.dash,
          dashRequests,
          mark.dash,
          'manifest.mpd',
          expect.soft,
        ));
    });

    await test.step('7. stopping the channel ends the session and the pipeline', async () => {
      if (!channel) throw new Error('no channel');
      // The players go first: after the stop, /live/ answers 409 (channel offline) to their playlist polls.
      await stopPlayer(hlsPage);
      await stopPlayer(dashPage);
      const stopped = await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
      expect(stopped.status(), await stopped.text()).toBe(200);
      running = false;
      expect(((await stopped.json()) as Channel).state).toBe('stopped');
      // A new publish (a real offer, the right key) is refused: the channel is not running.
      const refused = await request.post(channel.urls.whip, {
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${channel.streamKey}` },
        data: firstPublish?.offer ?? '',
      });
      expect(refused.status(), await refused.text()).toBe(409);
      // The publisher's peer connection is dropped by the server.
      await expect
        .poll(
          () =>
            publisher.evaluate(
              () =>
                (window as unknown as { __onairWhip?: { pc: RTCPeerConnection } }).__onairWhip?.pc
                  .connectionState,
            ),
          {
            timeout: 15_000,
          },
        )
        .not.toBe('connected');
      expect(pageProblems).toEqual([]);
      const events = await request.get(`/api/v1/channels/${channel.id}/events`, { headers: admin });
      note(`channel events: ${await events.text()}`);
    });
  } finally {
    if (channel && running) await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
  }
});
