/**
 * Programs and assets with real media: DVR while a program runs, the asset it
 * leaves (VOD HLS/DASH, poster, an MP4 download with byte ranges), clips,
 * publishing, retention, and a crash (SIGKILL) in the middle of a program.
 * A passthrough channel with 1 s segments keeps it quick and cheap; a werift
 * publisher in a child process sends H.264 (a keyframe a second) and Opus.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AssetView, Channel, ProgramView } from '../../lib/schemas.ts';
import { assertError, startServer, type TestServer } from '../helpers/server.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { createChannel, publishTo, startChannel } from '../helpers/live-channel.ts';
import { parseMediaPlaylist, playlistSeconds } from '../helpers/playlists.ts';
import { waitFor } from '../helpers/procs.ts';
import { getBytes } from '../helpers/replies.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

const run = promisify(execFile);
const SEGMENT = 1;
const publishers: WhipPublisher[] = [];

after(async () => {
  for (const p of publishers) await p.stop().catch(() => undefined);
});

function env(): Record<string, string> {
  return { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_LIVE_WINDOW_SEGMENTS: '3' };
}

async function liveChannel(s: TestServer, name = 'rec'): Promise<Channel> {
  const c = await createChannel(s, { name, mode: 'passthrough', segmentSeconds: SEGMENT });
  await startChannel(s, c.id);
  return c;
}

async function publish(s: TestServer, c: Channel): Promise<WhipPublisher> {
  return publishTo(s, c, { gop: 20, track: publishers });
}

async function playlist(s: TestServer, p: string) {
  const res = await s.request('GET', p, { auth: false });
  assert.equal(res.status, 200, `${p} → ${res.status}: ${res.text}`);
  return { text: res.text, ...parseMediaPlaylist(res.text) };
}

async function waitForSegments(s: TestServer, p: string, count: number, timeoutMs = 30_000) {
  return waitFor(
    `${count} segments in ${p}`,
    async () => {
      const res = await s.request('GET', p, { auth: false });
      if (res.status !== 200) return undefined;
      const pl = parseMediaPlaylist(res.text);
      return pl.segments.length >= count ? pl : undefined;
    },
    timeoutMs,
    250,
  );
}

async function readyAsset(s: TestServer, id: string): Promise<AssetView> {
  return waitFor(
    `asset ${id} ready`,
    async () => {
      const a = await s.api<AssetView>('GET', `/api/v1/assets/${id}`);
      assert.notEqual(a.json.status, 'failed', JSON.stringify(a.json));
      return a.json.status === 'ready' ? a.json : undefined;
    },
    15_000,
  );
}

async function ffprobe(target: string): Promise<{ duration: number; codecs: string[]; streams: string }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_name,start_time,duration',
    '-of',
    'json',
    target,
  ]);
  const j = JSON.parse(stdout) as {
    format: { duration: string };
    streams: { codec_name: string; start_time?: string; duration?: string }[];
  };
  return {
    duration: Number(j.format.duration),
    codecs: j.streams.map((x) => x.codec_name).sort(),
    streams: j.streams.map((x) => `${x.codec_name} ${x.start_time ?? '?'}+${x.duration ?? '?'}`).join(', '),
  };
}

function files(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext));
}

function du(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const st = statSync(path.join(dir, f));
    if (st.isFile()) n += st.size;
  }
  return n;
}

void describe('a program with DVR, its asset and clips', () => {
  let s: TestServer;
  let ch: Channel;
  let program: ProgramView;
  let asset: AssetView;

  before(async () => {
    s = await startServer({ env: env() });
    ch = await liveChannel(s);
    await publish(s, ch);
    await waitForSegments(s, `/live/${ch.id}/source.m3u8`, 2);
  });
  after(async () => {
    await s?.dispose();
  });

  void test('a running program has a DVR window longer than the live window, with program date-times', async () => {
    const created = await s.api<ProgramView>('POST', `/api/v1/channels/${ch.id}/programs`, {
      name: 'Keynote',
      archiveWindowMinutes: 5,
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.json.urls.hls, /\/programs\/pg_\w+\/master\.m3u8$/);
    assert.match(created.json.urls.watch, /\/watch\/programs\/pg_\w+$/);
    const started = await s.api<ProgramView>('POST', `/api/v1/programs/${created.json.id}/start`);
    assert.equal(started.status, 200, started.text);
    program = started.json;
    const dvr = await waitForSegments(s, `/programs/${program.id}/source.m3u8`, 13, 40_000);
    const live = await playlist(s, `/live/${ch.id}/source.m3u8`);
    assert.ok(live.segments.length <= 3, `the live window keeps 3 segments, got ${live.segments.length}`);
    assert.ok(dvr.segments.length > live.segments.length);
    assert.equal(dvr.ended, false);
    assert.ok(
      dvr.segments.every((x) => x.pdt),
      'every segment has a program date-time',
    );
    assert.ok(
      Date.parse(dvr.segments[0]!.pdt!) >= Date.parse(program.startedAt!) - 1500,
      'the window starts when the program started',
    );
    const master = await s.request('GET', `/programs/${program.id}/master.m3u8`, { auth: false });
    assert.equal(master.status, 200);
    assert.match(master.text, /source\.m3u8/);
    const mpd = await s.request('GET', `/programs/${program.id}/manifest.mpd`, { auth: false });
    assert.equal(mpd.status, 200, mpd.text);
    assert.match(mpd.text, /type="dynamic"/);
    assert.match(mpd.text, /timeShiftBufferDepth="PT300S"/);
    // The live manifest keeps its short window.
    const liveMpd = await s.request('GET', `/live/${ch.id}/manifest.mpd`, { auth: false });
    assert.match(liveMpd.text, /timeShiftBufferDepth="PT3S"/);
    // Segments of the DVR window are served under the program's URL.
    const seg = await getBytes(s, `/programs/${program.id}/${dvr.segments[0]!.uri}`);
    assert.equal(seg.status, 200);
    const view = await s.api<ProgramView>('GET', `/api/v1/programs/${program.id}`);
    assert.ok(view.json.durationSeconds >= 9, JSON.stringify(view.json));
    assert.ok(view.json.bytes > 0);
    const chView = await s.api<Channel>('GET', `/api/v1/channels/${ch.id}`);
    assert.ok(chView.json.bytes > 0, 'the channel reports its bytes on disk');
  });

  void test('a clip of the running program is an asset in well under a second; the program goes on', async () => {
    const t0 = Date.now();
    const clip = await s.api<AssetView>('POST', `/api/v1/programs/${program.id}/clips`, {
      name: 'Highlight',
      startOffsetSeconds: 11,
      endOffsetSeconds: 1,
    });
    const took = Date.now() - t0;
    assert.equal(clip.status, 201, clip.text);
    assert.ok(took < 1000, `clip took ${took} ms`);
    assert.equal(clip.json.kind, 'clip');
    assert.equal(clip.json.status, 'ready');
    assert.equal(clip.json.programId, program.id);
    assert.ok(
      Math.abs(clip.json.durationSeconds - 10) <= SEGMENT + 0.1,
      `clip lasts ${clip.json.durationSeconds} s`,
    );
    const pl = await playlist(s, `/vod/${clip.json.id}/source.m3u8`);
    assert.equal(pl.playlistType, 'VOD');
    assert.equal(pl.ended, true);
    assert.ok(Math.abs(playlistSeconds(pl) - clip.json.durationSeconds) < 0.05);
    const probed = await ffprobe(`${s.url}/vod/${clip.json.id}/source.m3u8`);
    assert.ok(Math.abs(probed.duration - clip.json.durationSeconds) <= SEGMENT, `${probed.duration}`);
    const mpd = await s.request('GET', `/vod/${clip.json.id}/manifest.mpd`, { auth: false });
    assert.match(mpd.text, /type="static"/);
    assert.match(mpd.text, /<Period id="r\w+" start="PT0S">/, 'the clip starts at 0');
    assert.equal((await s.api<ProgramView>('GET', `/api/v1/programs/${program.id}`)).json.state, 'running');
    // An absolute range works too.
    const now = Date.now();
    const abs = await s.api<AssetView>('POST', `/api/v1/programs/${program.id}/clips`, {
      name: 'Absolute',
      start: new Date(now - 5000).toISOString(),
      end: new Date(now - 2000).toISOString(),
    });
    assert.equal(abs.status, 201, abs.text);
  });

  void test('clips outside the recording, bad bodies and unknown programs are refused', async () => {
    const far = await s.api('POST', `/api/v1/programs/${program.id}/clips`, {
      name: 'too early',
      startOffsetSeconds: 3600,
    });
    assertError(far, 422, 'clip_out_of_range');
    const future = await s.api('POST', `/api/v1/programs/${program.id}/clips`, {
      name: 'future',
      start: new Date(Date.now() + 60_000).toISOString(),
      end: new Date(Date.now() + 70_000).toISOString(),
    });
    assertError(future, 422, 'clip_out_of_range');
    assertError(
      await s.api('POST', `/api/v1/programs/${program.id}/clips`, { name: 'x' }),
      422,
      'validation_failed',
    );
    assertError(
      await s.api('POST', `/api/v1/programs/${program.id}/clips`, {
        name: 'x',
        start: '2026-01-01T00:00:10Z',
        end: '2026-01-01T00:00:00Z',
      }),
      422,
      'validation_failed',
      /end/,
    );
    assertError(
      await s.api('POST', `/api/v1/programs/pg_nope/clips`, { name: 'x', startOffsetSeconds: 5 }),
      404,
      'program_not_found',
    );
    assertError(await s.api('DELETE', `/api/v1/programs/${program.id}`), 409, 'program_running');
    assertError(
      await s.api('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'x', archiveWindowMinutes: 0 }),
      422,
      'validation_failed',
    );
    assertError(
      await s.request('GET', '/programs/pg_nope/master.m3u8', { auth: false }),
      404,
      'program_not_found',
    );
    assertError(await s.request('GET', '/vod/as_nope/master.m3u8', { auth: false }), 404, 'asset_not_found');
  });

  void test('stopped, the program is an asset: VOD playlists, static MPD, poster, and its URLs keep working', async () => {
    const stopped = await s.api<ProgramView>('POST', `/api/v1/programs/${program.id}/stop`);
    assert.equal(stopped.status, 200, stopped.text);
    asset = await readyAsset(s, stopped.json.assetId!);
    assert.equal(asset.kind, 'program');
    assert.equal(asset.published, true);
    assert.ok(asset.bytes > 0);
    const elapsed = (Date.parse(stopped.json.stoppedAt!) - Date.parse(program.startedAt!)) / 1000;
    assert.ok(
      Math.abs(asset.durationSeconds - elapsed) <= SEGMENT * 2,
      `asset ${asset.durationSeconds} s, program ran ${elapsed} s`,
    );
    assertError(await s.api('POST', `/api/v1/programs/${program.id}/stop`), 409, 'program_not_running');
    const vod = await playlist(s, `/vod/${asset.id}/source.m3u8`);
    assert.equal(vod.playlistType, 'VOD');
    assert.equal(vod.ended, true);
    // The program's own URL now serves the same recording.
    const viaProgram = await playlist(s, `/programs/${program.id}/source.m3u8`);
    assert.deepEqual(
      viaProgram.segments.map((x) => x.uri),
      vod.segments.map((x) => x.uri),
    );
    assert.equal(viaProgram.ended, true);
    const mpd = await s.request('GET', `/vod/${asset.id}/manifest.mpd`, { auth: false });
    assert.match(mpd.text, /type="static"/);
    assert.match(mpd.text, /mediaPresentationDuration="PT/);
    const poster = await getBytes(s, `/vod/${asset.id}/poster.jpg`);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers['content-type'], 'image/jpeg');
    assert.equal(poster.body.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG');
  });

  void test('download.mp4: one remuxed MP4 with H.264 and AAC of the asset duration; byte ranges', async () => {
    const full = await getBytes(s, `/vod/${asset.id}/download.mp4`);
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-type'], 'video/mp4');
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.match(String(full.headers['content-disposition']), /attachment; filename="Keynote\.mp4"/);
    const probed = await ffprobe(`${s.url}/vod/${asset.id}/download.mp4`);
    assert.deepEqual(probed.codecs, ['aac', 'h264']);
    assert.ok(
      Math.abs(probed.duration - asset.durationSeconds) <= SEGMENT / 2,
      `${probed.duration} vs ${asset.durationSeconds}: ${probed.streams}`,
    );
    const part = await getBytes(s, `/vod/${asset.id}/download.mp4`, { range: 'bytes=100-1099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 100-1099/${full.body.length}`);
    assert.ok(part.body.equals(full.body.subarray(100, 1100)), 'the right bytes');
    const tail = await getBytes(s, `/vod/${asset.id}/download.mp4`, { range: 'bytes=-500' });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(full.body.subarray(full.body.length - 500)));
    const beyond = await getBytes(s, `/vod/${asset.id}/download.mp4`, {
      range: `bytes=${full.body.length + 10}-`,
    });
    assert.equal(beyond.status, 416);
    const head = await getBytes(s, `/vod/${asset.id}/download.mp4`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), full.body.length);
    assert.equal(head.body.length, 0);
    const after = await s.api<AssetView>('GET', `/api/v1/assets/${asset.id}`);
    assert.ok(after.json.bytes >= asset.bytes + full.body.length, 'the download counts in the bytes on disk');
  });

  void test('an unpublished asset answers 404 publicly and stays in the API', async () => {
    const off = await s.api<AssetView>('PATCH', `/api/v1/assets/${asset.id}`, { published: false });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.published, false);
    assertError(
      await s.request('GET', `/vod/${asset.id}/master.m3u8`, { auth: false }),
      404,
      'asset_not_found',
    );
    assertError(
      await s.request('GET', `/vod/${asset.id}/download.mp4`, { auth: false }),
      404,
      'asset_not_found',
    );
    assert.equal((await s.api('GET', `/api/v1/assets/${asset.id}`)).status, 200);
    assertError(
      await s.api('PATCH', `/api/v1/assets/${asset.id}`, { published: 'yes' }),
      422,
      'validation_failed',
    );
    assert.equal((await s.api('PATCH', `/api/v1/assets/${asset.id}`, { published: true })).status, 200);
    assert.equal((await s.request('GET', `/vod/${asset.id}/master.m3u8`, { auth: false })).status, 200);
  });

  void test('deleting an asset frees its folder; clips keep the segments they share', async () => {
    const clips = (await s.api<{ items: AssetView[] }>('GET', '/api/v1/assets?limit=200')).json.items.filter(
      (a) => a.kind === 'clip',
    );
    assert.ok(clips.length >= 1);
    const assets = path.join(s.dataDir, 'media', 'assets');
    const before = du(assets);
    const dir = path.join(assets, asset.id);
    assert.equal((await s.api('DELETE', `/api/v1/assets/${asset.id}`)).status, 204);
    assert.equal(existsSync(dir), false);
    assert.ok(du(assets) < before, 'disk use drops');
    const clip = clips[0]!;
    const probed = await ffprobe(`${s.url}/vod/${clip.id}/source.m3u8`);
    assert.ok(probed.duration > 0, 'the clip still plays');
  });
});

void describe('retention', () => {
  const suite = suiteServer({ env: env() });

  void test('a channel live without programs keeps the live window plus a small margin of files', async () => {
    const s = suite.server;
    const ch = await liveChannel(s, 'long');
    const p = await publish(s, ch);
    const liveDir = path.join(s.dataDir, 'media', ch.id, 'live');
    let most = 0;
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      most = Math.max(most, files(liveDir, '.m4s').length);
      await new Promise((r) => setTimeout(r, 500));
    }
    const pl = await playlist(s, `/live/${ch.id}/source.m3u8`);
    assert.ok(pl.mediaSequence >= 20, `segments went through: media sequence ${pl.mediaSequence}`);
    // Two tracks, the live window twice over (3 × 1 s × 2) and a few being written.
    assert.ok(most <= 2 * (3 * 2 + 3), `at most ${most} segment files at once`);
    await p.stop();
  });
});

void describe('a crash in the middle of a program', () => {
  const suite = suiteServer({ env: env() });

  void test('SIGKILL, restart, reconnect: nothing recorded before the kill is missing; the program goes on', async () => {
    const s = suite.server;
    const ch = await liveChannel(s, 'crash');
    let pub = await publish(s, ch);
    const earlier = (
      await s.api<ProgramView>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'earlier' })
    ).json;
    await s.api('POST', `/api/v1/programs/${earlier.id}/start`);
    await waitForSegments(s, `/programs/${earlier.id}/source.m3u8`, 3);
    const earlierAsset = await readyAsset(
      s,
      (await s.api<ProgramView>('POST', `/api/v1/programs/${earlier.id}/stop`)).json.assetId!,
    );
    const pg = (await s.api<ProgramView>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'main' }))
      .json;
    await s.api('POST', `/api/v1/programs/${pg.id}/start`);
    const beforeKill = await waitForSegments(s, `/programs/${pg.id}/source.m3u8`, 6);
    await s.kill();
    await pub.vanish();
    await s.start();
    const afterRestart = await playlist(s, `/programs/${pg.id}/source.m3u8`);
    const kept = new Set(afterRestart.segments.map((x) => x.uri));
    const missing = beforeKill.segments.map((x) => x.uri).filter((u) => !kept.has(u));
    assert.deepEqual(missing, [], 'segments listed before the kill are all still listed');
    assert.equal((await s.api<ProgramView>('GET', `/api/v1/programs/${pg.id}`)).json.state, 'running');
    // No half-written file is left behind.
    const liveDir = path.join(s.dataDir, 'media', ch.id, 'live');
    assert.deepEqual(files(liveDir, '.tmp'), []);
    // The publisher comes back: the program continues after a discontinuity.
    pub = await publish(s, ch);
    const continued = await waitFor(
      'new segments in the program',
      async () => {
        const p = await playlist(s, `/programs/${pg.id}/source.m3u8`);
        return p.discontinuities >= 1 && p.segments.length >= afterRestart.segments.length + 2
          ? p
          : undefined;
      },
      30_000,
    );
    assert.ok(
      continued.segments
        .slice(0, afterRestart.segments.length)
        .every((x, i) => x.uri === afterRestart.segments[i]!.uri),
    );
    // The asset made before the crash plays.
    const probed = await ffprobe(`${s.url}/vod/${earlierAsset.id}/source.m3u8`);
    assert.ok(Math.abs(probed.duration - earlierAsset.durationSeconds) <= SEGMENT, `${probed.duration}`);
    await pub.stop();
  });
});
