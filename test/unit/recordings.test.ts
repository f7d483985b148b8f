/** Pure parts of programs and assets: spans of the timeline, the journal and restore, byte ranges, remux argv, VOD manifests. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readHlsRecording } from '../../server/packager/archive.ts';
import { recordingOf } from '../../server/packager/live-output.ts';
import { renderDashMpd } from '../../server/packager/dash.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from '../../server/packager/hls.ts';
import { RunIndexer } from '../../server/packager/segment-indexer.ts';
import {
  Timeline,
  spanView,
  type Run,
  type Segment,
  type TimelineJournal,
  type TrackInfo,
} from '../../server/packager/timeline.ts';
import { parseRange } from '../../server/origin/send-file.ts';
import { buildConcatArgs, buildRemuxPartArgs } from '../../server/transcode/remux.ts';
import { lavfiInput, quietLavfi } from '../helpers/lavfi.ts';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const VIDEO: TrackInfo = {
  id: 'source',
  kind: 'video',
  codec: 'avc1.42e01f',
  bandwidth: 1e6,
  timescale: 90000,
};
const AUDIO: TrackInfo = {
  id: 'audio',
  kind: 'audio',
  codec: 'mp4a.40.2',
  bandwidth: 128000,
  timescale: 48000,
};

/** A run of n one-second segments of video and of audio (whose media time starts at 240, not 0). */
function build(n: number, journal?: TimelineJournal): Timeline {
  let now = T0;
  const tl = new Timeline({ now: () => now, ...(journal ? { journal } : {}) });
  tl.beginRun('ra', T0 - 1000);
  tl.setTrack('ra', VIDEO, 'ra/source/init.mp4');
  tl.setTrack('ra', AUDIO, 'ra/audio/init.mp4');
  for (let i = 0; i < n; i++) {
    now = T0 + (i + 1) * 1000;
    tl.addSegment('ra', 'source', {
      number: i,
      uri: `ra/source/seg_${String(i).padStart(5, '0')}.m4s`,
      start: i * 90000,
      duration: 90000,
      bytes: 1000,
    });
    tl.addSegment('ra', 'audio', {
      number: i,
      uri: `ra/audio/seg_${String(i).padStart(5, '0')}.m4s`,
      start: i * 48000 + 240,
      duration: 48000,
      bytes: 100,
    });
  }
  return tl;
}

function all(tl: Timeline) {
  return tl.window({ maxSegments: Number.MAX_SAFE_INTEGER });
}

void describe('spans of the timeline', () => {
  void test('a span takes whole segments that start in it, every track; audio stops where video stops', () => {
    const tl = build(10);
    const view = spanView(all(tl), T0 + 3000, T0 + 7000);
    const run = view.runs[0]!;
    assert.deepEqual(
      run.tracks.get('source')!.segments.map((s) => s.number),
      [3, 4, 5, 6],
    );
    assert.deepEqual(
      run.tracks.get('audio')!.segments.map((s) => s.number),
      [3, 4, 5, 6],
    );
    const rec = recordingOf(view);
    assert.equal(rec.durationSeconds, 4);
    assert.equal(rec.bytes, 4 * 1100);
    assert.equal(rec.start, T0 + 3000);
    assert.equal(Math.round(rec.end), T0 + 7000);
  });

  void test('an open-ended span does not take audio beyond the last video segment', () => {
    const tl = build(6);
    // One audio segment more than video: audio is written apart and may run ahead.
    tl.addSegment('ra', 'audio', {
      number: 6,
      uri: 'ra/audio/seg_00006.m4s',
      start: 6 * 48000 + 240,
      duration: 48000,
      bytes: 100,
    });
    const view = spanView(all(tl), T0 + 2000, Infinity);
    assert.deepEqual(
      view.runs[0]!.tracks.get('audio')!.segments.map((s) => s.number),
      [2, 3, 4, 5],
    );
  });

  void test('an empty span is an empty recording', () => {
    const rec = recordingOf(spanView(all(build(3)), T0 + 60_000, T0 + 70_000));
    assert.deepEqual(rec, { view: { runs: [] }, start: 0, end: 0, durationSeconds: 0, bytes: 0 });
  });

  void test('window(since) lists a DVR window: everything since, not only the last N', () => {
    const tl = build(20);
    const dvr = tl.window({ maxSegments: Number.MAX_SAFE_INTEGER, since: T0 + 5000 });
    assert.equal(dvr.runs[0]!.tracks.get('source')!.segments.length, 15);
    const live = tl.window({ maxSegments: 3 });
    assert.equal(live.runs[0]!.tracks.get('source')!.segments.length, 3);
  });
});

void describe('journal and restore', () => {
  void test('the journal hears every change; a restored timeline continues its numbering', () => {
    const heard: string[] = [];
    const journal: TimelineJournal = {
      runBegan: (r) => heard.push(`began ${r.id}`),
      trackSet: (r, t) => heard.push(`track ${r.id}/${t.info.id}`),
      runAnchored: (r) => heard.push(`anchored ${r.id}`),
      segmentAdded: (r, id, s) => heard.push(`segment ${r.id}/${id}/${s.number}`),
      runEnded: (r) => heard.push(`ended ${r.id}`),
      pruned: (segs, runs) => heard.push(`pruned ${segs.length} ${runs.join(',')}`),
    };
    const tl = build(3, journal);
    assert.deepEqual(heard.slice(0, 6), [
      'began ra',
      'track ra/source',
      'track ra/audio',
      'anchored ra',
      'track ra/source',
      'segment ra/source/0',
    ]);
    tl.endRun('ra');
    tl.endRun('ra');
    assert.equal(heard.filter((h) => h === 'ended ra').length, 1, 'ended once');
    tl.prune(T0 + 2000);
    assert.equal(heard.at(-1), 'pruned 4 ', 'two segments of each track');

    // A restart: the saved runs come back, the next run continues the media sequence.
    const saved: Run[] = all(tl).runs.map((r) => ({
      ...r,
      tracks: new Map([...r.tracks].map(([k, t]) => [k, { ...t, segments: [...t.segments] }])),
    }));
    const again = new Timeline({ now: () => T0 + 10_000 });
    again.restore(saved);
    assert.equal(again.latestRun()?.ended, true);
    again.beginRun('rb', T0 + 10_000);
    again.setTrack('rb', VIDEO, 'rb/source/init.mp4');
    const seg: Segment = again.addSegment('rb', 'source', {
      number: 0,
      uri: 'rb/source/seg_00000.m4s',
      start: 0,
      duration: 90000,
      bytes: 1,
    });
    assert.equal(seg.seq, 3, 'media sequence continues after the restored segments');
    assert.equal(again.getRun('rb').tracks.get('source')!.discontinuity, 1);
    assert.ok(seg.pdt >= T0 + 3000, 'program time never goes back');
    assert.throws(() => again.restore(saved), /empty timeline/);
  });
});

void describe('byte ranges', () => {
  void test('one range, suffix, open end; several ranges are ignored; outside the file is unsatisfiable', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
    assert.deepEqual(parseRange('bytes=500-5000', 1000), { start: 500, end: 999 });
    assert.equal(parseRange(undefined, 1000), undefined);
    assert.equal(parseRange('bytes=0-1,5-9', 1000), undefined);
    assert.equal(parseRange('items=0-1', 1000), undefined);
    assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=9-3', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
  });

  void test('an empty file satisfies no range, a suffix included', () => {
    assert.equal(parseRange('bytes=-5', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange(undefined, 0), undefined);
  });
});

void describe('remux argv', () => {
  void test('video on stdin, audio on fd 3, the later input delayed, streams copied', () => {
    assert.deepEqual(buildRemuxPartArgs({ audio: ['a'], audioOffsetSeconds: 0.007 }, '/o.mp4', true), [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'mp4',
      '-i',
      'pipe:0',
      '-itsoffset',
      '0.007',
      '-f',
      'mp4',
      '-i',
      'pipe:3',
      '-map',
      '0:v:0',
      '-map',
      '1:a:0',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      '/o.mp4',
    ]);
    const early = buildRemuxPartArgs({ audio: ['a'], audioOffsetSeconds: -0.02 }, '/o.mp4', false);
    assert.deepEqual(early.slice(5, 7), ['-itsoffset', '0.020'], 'video delayed when audio starts first');
    assert.ok(!early.includes('+faststart'));
    const silent = buildRemuxPartArgs({ audio: undefined, audioOffsetSeconds: 0 }, '/o.mp4', true);
    assert.ok(!silent.includes('pipe:3') && !silent.includes('1:a:0'));
    assert.deepEqual(buildConcatArgs('/l.txt', '/o.mp4').slice(5, 11), [
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      '/l.txt',
    ]);
  });
});

void describe('on-demand manifests', () => {
  void test('a clip from mid-run: a VOD playlist, and a static MPD whose Period starts at 0', () => {
    const view = spanView(all(build(10)), T0 + 4000, T0 + 6000);
    const hls = renderHlsMediaPlaylist(view, 'source', {
      targetDuration: 1,
      ended: true,
      playlistType: 'VOD',
    });
    assert.match(hls, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(hls, /#EXT-X-ENDLIST\n$/);
    const rec = recordingOf(view);
    const mpd = renderDashMpd(view, {
      availabilityStartTime: rec.start,
      publishTime: T0,
      minimumUpdatePeriodSeconds: 1,
      timeShiftBufferDepthSeconds: rec.durationSeconds,
      suggestedPresentationDelaySeconds: 3,
      minBufferTimeSeconds: 1,
      utcTimingUrl: 'http://x/time',
      ended: true,
      vod: true,
    });
    assert.match(mpd, /type="static"/);
    assert.match(mpd, /<Period id="ra" start="PT0S">/);
    // The presentation time offset is the media time at the clip's start (4 s into the run).
    assert.match(mpd, /timescale="90000" presentationTimeOffset="360000"/);
    assert.match(mpd, /timescale="48000" presentationTimeOffset="192240"/);
    assert.match(mpd, /mediaPresentationDuration="PT2S"/);
  });
});

void describe('assets kept as HLS files (before the segment index was durable)', () => {
  void test('their index is read back from the playlists and the MP4 boxes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onair-legacy-'));
    try {
      const runDir = path.join(dir, 'r1');
      mkdirSync(runDir);
      execFileSync('ffmpeg', [
        ...quietLavfi('testsrc2=size=320x180:rate=20'),
        ...lavfiInput('sine=frequency=440:sample_rate=48000'),
        '-t',
        '4',
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c:v',
        'libx264',
        '-bf',
        '0',
        '-g',
        '20',
        '-c:a',
        'aac',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_segment_type',
        'fmp4',
        '-hls_fmp4_init_filename',
        '../%v/init.mp4',
        '-hls_segment_filename',
        `${runDir}/%v/seg_%05d.m4s`,
        '-var_stream_map',
        'v:0,name:source a:0,name:audio',
        `${runDir}/%v/index.m3u8`,
      ]);
      const tl = new Timeline();
      tl.beginRun('r1');
      const indexer = new RunIndexer({
        runDir,
        runId: 'r1',
        timeline: tl,
        tracks: [{ id: 'source' }, { id: 'audio' }],
      });
      await indexer.flush();
      indexer.close();
      const view = all(tl);
      writeFileSync(path.join(dir, 'master.m3u8'), renderHlsMaster(tl.latestTracks()));
      for (const id of ['source', 'audio'])
        writeFileSync(
          path.join(dir, `${id}.m3u8`),
          renderHlsMediaPlaylist(view, id, { targetDuration: 1, ended: true }),
        );
      const back = await readHlsRecording(dir);
      assert.equal(back.runs.length, 1);
      for (const id of ['source', 'audio']) {
        const want = view.runs[0]!.tracks.get(id)!;
        const got = back.runs[0]!.tracks.get(id)!;
        assert.equal(got.initUri, want.initUri);
        assert.equal(got.info.timescale, want.info.timescale);
        assert.equal(got.info.kind, want.info.kind);
        assert.deepEqual(
          got.segments.map((s) => [s.uri, s.start, s.duration, s.bytes, Math.round(s.pdt)]),
          want.segments.map((s) => [s.uri, s.start, s.duration, s.bytes, Math.round(s.pdt)]),
        );
      }
      assert.ok(recordingOf(back).durationSeconds >= 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
