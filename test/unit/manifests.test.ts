/**
 * Golden tests of the HLS and DASH renderers over a hand-built timeline: two runs
 * (a publisher reconnect), three video renditions + audio, a fixed clock.
 * Regenerate the goldens with UPDATE_GOLDEN=1 after checking the output by eye.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline } from '../../server/packager/timeline.ts';
import type { TrackInfo } from '../../server/packager/timeline.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from '../../server/packager/hls.ts';
import { renderDashMpd } from '../../server/packager/dash.ts';
import type { DashOptions } from '../../server/packager/dash.ts';
import { AUDIO, golden, T0, VIDEO_720P } from '../helpers/packager-fixtures.ts';

const VIDEO: TrackInfo[] = [
  {
    id: '480p',
    kind: 'video',
    codec: 'avc1.64001e',
    bandwidth: 1_400_000,
    width: 854,
    height: 480,
    timescale: 12800,
  },
  VIDEO_720P,
  {
    id: '360p',
    kind: 'video',
    codec: 'avc1.64001e',
    bandwidth: 800_000,
    width: 640,
    height: 360,
    timescale: 12800,
  },
];

function declare(tl: Timeline, runId: string): void {
  for (const t of [...VIDEO, AUDIO]) tl.setTrack(runId, t, `${runId}/${t.id}/init.mp4`);
}

/** Adds segment i of every track; video and audio durations differ, as with AAC's 1024-sample frames. */
function addAll(
  tl: Timeline,
  runId: string,
  number: number,
  video: { start: number; duration: number },
  audio: { start: number; duration: number },
  now: number,
): void {
  for (const t of VIDEO) {
    const uri = `${runId}/${t.id}/seg_${String(number).padStart(5, '0')}.m4s`;
    const frames = Math.round((video.duration / 12800) * 25);
    tl.addSegment(runId, t.id, { number, uri, ...video, bytes: 1000, sampleCount: frames }, now);
  }
  const uri = `${runId}/audio/seg_${String(number).padStart(5, '0')}.m4s`;
  tl.addSegment(runId, 'audio', { number, uri, ...audio, bytes: 500 }, now);
}

/** Run A: 3 segments of 2 s. Run B (after a reconnect): 3 of 2 s + a short last one. */
function build(): Timeline {
  const tl = new Timeline({ now: () => T0 });
  tl.beginRun('rA', T0);
  declare(tl, 'rA');
  const aDur = [96256, 96256, 95232];
  let a = 0;
  for (let i = 0; i < 3; i++) {
    addAll(
      tl,
      'rA',
      i,
      { start: 25600 * i, duration: 25600 },
      { start: a, duration: aDur[i]! },
      T0 + 3000 + 2000 * i,
    );
    a += aDur[i]!;
  }
  tl.endRun('rA');

  tl.beginRun('rB', T0 + 12_000);
  declare(tl, 'rB');
  const vB = [25600, 25600, 25600, 15360];
  const aB = [96256, 96256, 96256, 57344];
  const at = [15_000, 17_000, 19_000, 20_200];
  let v = 512; // run B's video does not start at 0: exercises presentationTimeOffset
  a = 0;
  for (let i = 0; i < 4; i++) {
    addAll(tl, 'rB', i, { start: v, duration: vB[i]! }, { start: a, duration: aB[i]! }, T0 + at[i]!);
    v += vB[i]!;
    a += aB[i]!;
  }
  return tl;
}

const DASH: DashOptions = {
  availabilityStartTime: T0,
  publishTime: T0 + 20_200,
  minimumUpdatePeriodSeconds: 2,
  timeShiftBufferDepthSeconds: 30,
  suggestedPresentationDelaySeconds: 6,
  minBufferTimeSeconds: 2,
  utcTimingUrl: '/api/v1/time?iso&x="y"',
  ended: false,
};

/**
 * Minimal XML well-formedness check (no dependency): prolog, quoted attributes,
 * no raw '<' or '&' in values, entities, properly nested tags, a single root.
 */
function assertWellFormedXml(xml: string): void {
  let i = 0;
  const stack: string[] = [];
  let roots = 0;
  const fail = (msg: string): never => assert.fail(`${msg} at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  const isNameChar = (c: string | undefined): boolean =>
    c !== undefined &&
    ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ':_-.'.includes(c));
  const name = (): string => {
    const start = i;
    while (isNameChar(xml[i])) i++;
    if (i === start) fail('expected a name');
    return xml.slice(start, i);
  };
  const space = (): void => {
    while (xml[i] === ' ' || xml[i] === '\n' || xml[i] === '\t' || xml[i] === '\r') i++;
  };
  const entity = (): void => {
    const end = xml.indexOf(';', i);
    const ref = xml.slice(i + 1, end);
    if (end < 0 || !['amp', 'lt', 'gt', 'quot', 'apos'].includes(ref)) fail('bad entity');
    i = end + 1;
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    if (xml[i] === '<') {
      i++;
      if (xml[i] === '/') {
        i++;
        const n = name();
        if (stack.pop() !== n) fail(`unexpected </${n}>`);
        space();
        if (xml[i++] !== '>') fail('expected >');
        continue;
      }
      const n = name();
      if (stack.length === 0 && ++roots > 1) fail('more than one root');
      const seen = new Set<string>();
      for (;;) {
        space();
        if (xml.startsWith('/>', i)) {
          i += 2;
          break;
        }
        if (xml[i] === '>') {
          i++;
          stack.push(n);
          break;
        }
        const a = name();
        if (seen.has(a)) fail(`duplicate attribute ${a}`);
        seen.add(a);
        if (xml[i++] !== '=') fail('expected =');
        const q = xml[i++];
        if (q !== '"' && q !== "'") fail('unquoted attribute');
        while (xml[i] !== q) {
          if (i >= xml.length || xml[i] === '<') fail('bad attribute value');
          if (xml[i] === '&') entity();
          else i++;
        }
        i++;
      }
    } else if (xml[i] === '&') {
      entity();
    } else {
      const c = xml[i++];
      if (stack.length === 0 && c !== '\n' && c !== ' ') fail('text outside the root');
    }
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1);
}

describe('manifests (golden)', () => {
  it('renders the master playlist, highest bandwidth first, audio included', () => {
    const tl = build();
    golden('master.m3u8', renderHlsMaster(tl.latestTracks()));
  });

  it('renders media playlists across a discontinuity', () => {
    const view = build().window({ maxSegments: 5 });
    assert.deepEqual(
      view.runs.map((r) => r.id),
      ['rA', 'rB'],
    );
    golden('live-720p.m3u8', renderHlsMediaPlaylist(view, '720p', { targetDuration: 2, ended: false }));
    golden('live-audio.m3u8', renderHlsMediaPlaylist(view, 'audio', { targetDuration: 2, ended: false }));
  });

  it('renders a dynamic MPD with one Period per run', () => {
    const mpd = renderDashMpd(build().window({ maxSegments: 5 }), DASH);
    assertWellFormedXml(mpd);
    golden('live.mpd', mpd);
  });

  it('keeps sequence numbers stable once the first run is pruned, and ends', () => {
    const tl = build();
    const pruned = tl.prune(T0 + 7000);
    assert.deepEqual(pruned.runIds, ['rA']);
    assert.equal(pruned.uris.length, 4 * 3 + 4);
    assert.ok(pruned.uris.includes('rA/720p/seg_00002.m4s'));
    assert.ok(pruned.uris.includes('rA/audio/init.mp4'));
    tl.endRun('rB');
    const view = tl.window({ maxSegments: 5 });
    golden('ended-720p.m3u8', renderHlsMediaPlaylist(view, '720p', { targetDuration: 2, ended: true }));
    const mpd = renderDashMpd(view, { ...DASH, ended: true });
    assertWellFormedXml(mpd);
    golden('ended.mpd', mpd);
  });
});

describe('timeline', () => {
  it('computes seq, pdt, discontinuities and frame rate', () => {
    const tl = build();
    const run = tl.getRun('rB');
    const t720 = run.tracks.get('720p')!;
    assert.deepEqual(
      t720.segments.map((s) => s.seq),
      [3, 4, 5, 6],
    );
    assert.equal(t720.discontinuity, 1);
    assert.equal(run.anchor, T0 + 13_000);
    assert.equal(t720.segments[1]!.pdt, T0 + 15_000);
    assert.equal(t720.info.frameRate, 25);
    assert.equal(tl.segmentCount(), 4 * 7);
    assert.equal(tl.segmentCount('audio'), 7);
    assert.equal(tl.lastSegmentAt(), T0 + 20_200);
    assert.equal(tl.isEmpty(), false);
    assert.equal(new Timeline().isEmpty(), true);
  });

  it('keeps program time monotonic when a run starts before the previous one ends in media time', () => {
    const tl = new Timeline();
    tl.beginRun('r1', T0);
    tl.setTrack('r1', VIDEO[0]!, 'r1/480p/init.mp4');
    tl.addSegment('r1', '480p', { number: 0, uri: 'a', start: 0, duration: 25600, bytes: 1 }, T0 + 2000);
    tl.addSegment('r1', '480p', { number: 1, uri: 'b', start: 25600, duration: 25600, bytes: 1 }, T0 + 2100);
    tl.beginRun('r2', T0 + 3000);
    tl.setTrack('r2', VIDEO[0]!, 'r2/480p/init.mp4');
    const s = tl.addSegment(
      'r2',
      '480p',
      { number: 0, uri: 'c', start: 0, duration: 25600, bytes: 1 },
      T0 + 4000,
    );
    assert.equal(s.pdt, T0 + 4000); // not T0 + 2000: the previous run ends at T0 + 4000
  });

  it('windows audio to the span of the video segments', () => {
    const view = build().window({ maxSegments: 2 });
    assert.deepEqual(
      view.runs.map((r) => r.id),
      ['rB'],
    );
    const rB = view.runs[0]!;
    assert.deepEqual(
      rB.tracks.get('720p')!.segments.map((s) => s.number),
      [2, 3],
    );
    // Video from T0+17000; audio segment 1 spans T0+15005..T0+17010, so it is kept.
    assert.deepEqual(
      rB.tracks.get('audio')!.segments.map((s) => s.number),
      [1, 2, 3],
    );
  });
});
