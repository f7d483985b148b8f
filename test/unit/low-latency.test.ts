/**
 * Low latency, without a server: LL-HLS and LL-DASH renderings (goldens),
 * blocking reload semantics (waits, wakes on the part, times out, refuses
 * the far future) over a real timeline and a loopback HTTP server, delta
 * updates, and the indexer reading parts of a segment FFmpeg is still writing.
 * Regenerate the goldens with UPDATE_GOLDEN=1 after checking them by eye.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OnairError } from '../../lib/errors.ts';
import { renderDashMpd } from '../../server/packager/dash.ts';
import { playlistEnd, renderHlsMediaPlaylist } from '../../server/packager/hls.ts';
import { splitParts } from '../../server/packager/mp4.ts';
import { RunIndexer } from '../../server/packager/segment-indexer.ts';
import { Timeline, type TrackInfo } from '../../server/packager/timeline.ts';
import { Renderings } from '../../server/origin/renderings.ts';
import {
  blockingSatisfied,
  parseHlsQuery,
  servePlayback,
  type PlaybackSource,
} from '../../server/origin/playback.ts';
import { AUDIO, golden, T0, VIDEO_720P } from '../helpers/packager-fixtures.ts';
import { quietLavfi } from '../helpers/lavfi.ts';

const VIDEO: TrackInfo = { ...VIDEO_720P, frameRate: 20 };
const uri = (track: string, n: number): string => `r1/${track}/seg_${String(n).padStart(5, '0')}.m4s`;

/** Four 0.5 s parts of a 2 s segment (the first independent). */
function parts(
  timescale: number,
  bytes = 1000,
): { offset: number; length: number; duration: number; independent: boolean }[] {
  return [0, 1, 2, 3].map((k) => ({
    offset: k * bytes,
    length: bytes,
    duration: timescale / 2,
    independent: k === 0,
  }));
}

/** `segments` complete segments of 2 s with parts, then two parts of the next one. */
/** The 720p LL-HLS playlist of `view`: 2 s target duration, 0.5 s parts, a delta update with `skip`. */
function llPlaylist(
  view: Parameters<typeof renderHlsMediaPlaylist>[0],
  { ended = false, skip = false }: { ended?: boolean; skip?: boolean } = {},
): string {
  return renderHlsMediaPlaylist(view, '720p', {
    targetDuration: 2,
    ended,
    lowLatency: skip ? { partTargetSeconds: 0.5, skip: true } : { partTargetSeconds: 0.5 },
  });
}

function build(segments: number, now = { t: T0 }): Timeline {
  const tl = new Timeline({ now: () => now.t });
  tl.beginRun('r1', T0);
  tl.setTrack('r1', VIDEO, 'r1/720p/init.mp4');
  tl.setTrack('r1', AUDIO, 'r1/audio/init.mp4');
  for (let i = 1; i <= segments; i++) {
    now.t = T0 + 2000 * i;
    for (const t of [VIDEO, AUDIO]) {
      tl.addSegment('r1', t.id, {
        number: i,
        uri: uri(t.id, i),
        start: (i - 1) * 2 * t.timescale,
        duration: 2 * t.timescale,
        bytes: 4000,
        sampleCount: 40,
        parts: parts(t.timescale),
      });
    }
  }
  for (const k of [0, 1]) {
    now.t += 500;
    for (const t of [VIDEO, AUDIO]) {
      tl.addPart('r1', t.id, {
        number: segments + 1,
        uri: uri(t.id, segments + 1),
        start: segments * 2 * t.timescale,
        part: parts(t.timescale)[k]!,
      });
    }
  }
  return tl;
}

describe('LL-HLS rendering', () => {
  it('renders parts of the last segments, the one being written, a preload hint and reports (golden)', () => {
    const view = build(4).window({ maxSegments: 6 });
    const audioEnd = playlistEnd(view, 'audio')!;
    assert.deepEqual(audioEnd, { msn: 4, part: 1, complete: false });
    golden(
      'll-720p.m3u8',
      renderHlsMediaPlaylist(view, '720p', {
        targetDuration: 2,
        ended: false,
        lowLatency: { partTargetSeconds: 0.5, renditionReports: [{ uri: 'audio.m3u8', ...audioEnd }] },
      }),
    );
  });

  it('delta update: skips what is older than CAN-SKIP-UNTIL (6 target durations), keeps the rest', () => {
    const view = build(10).window({ maxSegments: 20 });
    const full = llPlaylist(view);
    const delta = llPlaylist(view, { skip: true });
    golden('ll-720p-skip.m3u8', delta);
    // The playlist ends 21 s in (10 segments + 1 s of parts): segments ending before 9 s are skipped.
    assert.match(delta, /^#EXT-X-SKIP:SKIPPED-SEGMENTS=4$/m);
    const count = (t: string) => t.split('\n').filter((l) => l.startsWith('#EXTINF')).length;
    assert.equal(count(full), 10);
    assert.equal(count(delta), 6);
    assert.ok(!delta.includes(uri('720p', 4)) && delta.includes(uri('720p', 5)));
    // Same media sequence: the client counts the skipped segments in.
    assert.match(delta, /^#EXT-X-MEDIA-SEQUENCE:0$/m);
    // A short window has nothing to skip.
    const short = llPlaylist(build(3).window({ maxSegments: 6 }), { skip: true });
    assert.ok(!short.includes('EXT-X-SKIP'));
  });

  it('an ended playlist has no LL tags; standard playlists are version 7 without parts', () => {
    const view = build(2).window({ maxSegments: 6 });
    const ended = llPlaylist(view, { ended: true });
    assert.ok(!ended.includes('#EXT-X-PART') && !ended.includes('PRELOAD-HINT'), ended);
    const std = renderHlsMediaPlaylist(view, '720p', { targetDuration: 2, ended: false });
    assert.match(std, /^#EXT-X-VERSION:7$/m);
    assert.ok(!std.includes('#EXT-X-PART'));
  });

  /** MPD options of a live low-latency window: 2 s segments, 0.5 s parts. */
  const MPD = {
    availabilityStartTime: T0,
    publishTime: T0 + 7000,
    minimumUpdatePeriodSeconds: 0.5,
    timeShiftBufferDepthSeconds: 12,
    suggestedPresentationDelaySeconds: 2.5,
    minBufferTimeSeconds: 1,
    utcTimingUrl: 'http://x/time',
    ended: false,
  };
  const LL = { segmentSeconds: 2, partSeconds: 0.5, targetLatencySeconds: 2.5 };

  it('renders a low-latency MPD: the segment being written, availabilityTimeOffset, a ServiceDescription (golden)', () => {
    const mpd = renderDashMpd(build(3).window({ maxSegments: 6 }), { ...MPD, lowLatency: LL });
    golden('ll.mpd', mpd);
    assert.match(mpd, /<S t="0" d="25600" r="3"\/>/, 'three complete + the one being written');
    assert.match(mpd, /<Latency [^>]*max="6500"/);
  });

  it('a DVR window has a latency target but no maximum: a viewer who scrubs back stays there', () => {
    const dvr = renderDashMpd(build(3).window({ maxSegments: 6 }), {
      ...MPD,
      lowLatency: { ...LL, seekable: true },
    });
    assert.match(dvr, /<Latency referenceId="0" target="2500" min="1000"\/>/);
  });
});

describe('blocking reload semantics', () => {
  it('satisfied by the segment complete, or by the part, or by anything later', () => {
    assert.equal(blockingSatisfied(undefined, 0, undefined), false);
    assert.equal(blockingSatisfied({ msn: 5, part: 1, complete: false }, 5, undefined), false);
    assert.equal(blockingSatisfied({ msn: 5, part: 1, complete: false }, 5, 1), true);
    assert.equal(blockingSatisfied({ msn: 5, part: 1, complete: false }, 5, 2), false);
    assert.equal(blockingSatisfied({ msn: 5, part: 3, complete: true }, 5, 7), true);
    assert.equal(blockingSatisfied({ msn: 6, part: 0, complete: false }, 5, 9), true);
    assert.equal(blockingSatisfied({ msn: 4, part: 3, complete: true }, 5, 0), false);
  });

  it('parses _HLS_msn, _HLS_part and _HLS_skip; anything malformed is a 400', () => {
    assert.deepEqual(parseHlsQuery(new URLSearchParams('_HLS_msn=7&_HLS_part=2&_HLS_skip=YES')), {
      msn: 7,
      part: 2,
      skip: true,
    });
    assert.deepEqual(parseHlsQuery(undefined), { msn: undefined, part: undefined, skip: false });
    for (const q of [
      '_HLS_msn=x',
      '_HLS_msn=-1',
      '_HLS_msn=1.5',
      '_HLS_part=1',
      '_HLS_msn=1&_HLS_part=a',
      '_HLS_skip=no',
    ]) {
      assert.throws(
        () => parseHlsQuery(new URLSearchParams(q)),
        (e: unknown) => e instanceof OnairError && e.status === 400,
        q,
      );
    }
  });

  describe('over HTTP', () => {
    const now = { t: T0 };
    let tl: Timeline;
    let server: Server;
    let base = '';
    before(async () => {
      tl = build(3, now);
      const source: PlaybackSource = {
        kind: 'live',
        dir: '/nonexistent',
        segmentSeconds: 1, // blocking requests are held at most 3 target durations: 3 s here
        view: () => tl.window({ maxSegments: 6 }),
        tracks: () => tl.latestTracks(),
        expectedTracks: 2,
        currentRunId: 'r1',
        ended: false,
        availabilityStartTime: T0,
        timeShiftBufferDepthSeconds: 12,
        picture: () => undefined,
        cacheKey: 'test',
        get version() {
          return tl.version;
        },
        lowLatency: true,
        partSeconds: 0.5,
        waitForChange: (ms) => tl.waitForChange(ms),
      };
      const renderings = new Renderings();
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        servePlayback(req, res, source, url.pathname.slice(1), {
          utcTimingUrl: () => 'http://x/time',
          renderings,
          query: url.searchParams,
        }).catch((err: unknown) => {
          res.writeHead(err instanceof OnairError ? err.status : 500).end(String(err));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
    });
    after(() => server.close());

    function get(p: string): Promise<{ status: number; text: string; ms: number }> {
      const t0 = Date.now();
      return new Promise((resolve, reject) => {
        request(`${base}/${p}`, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - t0 }));
        })
          .on('error', reject)
          .end();
      });
    }

    it('waits for the part, wakes when it is added, and lists it', async () => {
      // Segment 4 has parts 0 and 1: part 2 is the next one.
      const pending = get('720p.m3u8?_HLS_msn=3&_HLS_part=2');
      await new Promise((r) => setTimeout(r, 300));
      tl.addPart('r1', '720p', { number: 4, uri: uri('720p', 4), start: 3 * 25600, part: parts(12800)[2]! });
      const r = await pending;
      assert.equal(r.status, 200, r.text);
      assert.ok(r.ms >= 250 && r.ms < 1500, `${r.ms} ms`);
      assert.match(r.text, /seg_00004\.p2\.m4s/);
      assert.match(r.text, /PRELOAD-HINT:TYPE=PART,URI="r1\/720p\/seg_00004\.p3\.m4s"/);
    });

    it('answers at once when the playlist already has it; 400 for the far future', async () => {
      const now1 = await get('720p.m3u8?_HLS_msn=2');
      assert.equal(now1.status, 200);
      assert.ok(now1.ms < 200, `${now1.ms} ms`);
      const far = await get('720p.m3u8?_HLS_msn=9');
      assert.equal(far.status, 400);
    });

    it('times out with 503 after three target durations when nothing comes', async () => {
      const r = await get('audio.m3u8?_HLS_msn=4&_HLS_part=0');
      assert.equal(r.status, 503, r.text);
      assert.ok(r.ms >= 2900 && r.ms < 4000, `${r.ms} ms`);
    });
  });
});

describe('timeline parts', () => {
  it('a complete segment replaces the pending one; waitForChange wakes on a part, or times out', async () => {
    const tl = build(1);
    assert.equal(tl.window({ maxSegments: 3 }).runs[0]!.tracks.get('720p')!.pending?.parts.length, 2);
    const woke = tl.waitForChange(1000);
    tl.addPart('r1', '720p', { number: 2, uri: uri('720p', 2), start: 25600, part: parts(12800)[2]! });
    assert.equal(await woke, true);
    assert.equal(await tl.waitForChange(20), false);
    tl.addSegment('r1', '720p', {
      number: 2,
      uri: uri('720p', 2),
      start: 25600,
      duration: 25600,
      bytes: 4000,
    });
    assert.equal(tl.window({ maxSegments: 3 }).runs[0]!.tracks.get('720p')!.pending, undefined);
    tl.addPart('r1', 'audio', { number: 2, uri: uri('audio', 2), start: 96000, part: parts(48000)[2]! });
    tl.endRun('r1');
    assert.equal(
      tl.window({ maxSegments: 3 }).runs[0]!.tracks.get('audio')!.pending,
      undefined,
      'a run that ended has no pending part',
    );
  });
});

describe('RunIndexer parts of a growing segment (real FFmpeg output)', () => {
  let src = '';
  before(async () => {
    src = await mkdtemp(join(tmpdir(), 'onair-ll-'));
    await mkdir(join(src, 'v'));
    await promisify(execFile)('ffmpeg', [
      ...quietLavfi('testsrc2=size=320x180:rate=20'),
      '-t',
      '4.5',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-bf',
      '0',
      '-force_key_frames',
      'expr:gte(t,n_forced*2)',
      '-f',
      'dash',
      '-seg_duration',
      '2',
      '-frag_type',
      'duration',
      '-frag_duration',
      '0.5',
      '-streaming',
      '1',
      '-init_seg_name',
      'init.mp4',
      '-media_seg_name',
      'seg_$Number%05d$.m4s',
      join(src, 'v', 'manifest.mpd'),
    ]);
  });
  after(async () => {
    if (src) await rm(src, { recursive: true, force: true });
  });

  it('announces each complete part of seg_N.m4s.tmp, then the segment with the same parts', async () => {
    const runDir = join(src, 'run');
    await mkdir(join(runDir, 'v'), { recursive: true });
    await copyFile(join(src, 'v', 'init.mp4'), join(runDir, 'v', 'init.mp4'));
    const whole = await readFile(join(src, 'v', 'seg_00001.m4s'));
    const ranges = splitParts(whole);
    assert.equal(ranges.length, 4, 'four 0.5 s parts in a 2 s segment');
    // Two parts and a half written so far.
    const cut = ranges[2]!.offset + Math.floor(ranges[2]!.length / 2);
    const tmp = join(runDir, 'v', 'seg_00001.m4s.tmp');
    await writeFile(tmp, whole.subarray(0, cut));
    const tl = new Timeline();
    tl.beginRun('run');
    const indexer = new RunIndexer({ runDir, runId: 'run', timeline: tl, tracks: [{ id: 'v' }] });
    await indexer.flush();
    // flush() does not read parts; the watcher-driven scan does: start it and wait for the parts.
    indexer.start();
    const track = () => tl.window({ maxSegments: 3 }).runs[0]?.tracks.get('v');
    for (let i = 0; i < 50 && (track()?.pending?.parts.length ?? 0) < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      track()?.pending?.parts.map((p) => [p.offset, p.length, p.independent]),
      ranges.slice(0, 2).map((r, k) => [r.offset, r.length, k === 0]),
    );
    await writeFile(tmp, whole);
    await rename(tmp, join(runDir, 'v', 'seg_00001.m4s'));
    for (let i = 0; i < 100 && (track()?.segments.length ?? 0) < 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    indexer.close();
    const seg = track()!.segments[0]!;
    assert.equal(seg.parts?.length, 4);
    assert.equal(seg.duration, 2 * track()!.info.timescale);
    assert.equal(track()!.pending, undefined);
  });
});
