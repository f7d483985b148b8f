/**
 * A viewer's forwarding without WebRTC: fake sources emit RTP, a recording
 * target stands for the viewer's sender. Keyframe gating, continuity across
 * sources, codec changes, padding, and the fan-out's one subscription per track.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FanoutRegistry } from '../../server/sfu/fanout.ts';
import { ViewerForwarder, type ForwardedTrack } from '../../server/sfu/viewer-forwarder.ts';
import { FakeSource, H264, OPUS, VP8 } from '../helpers/fake-media.ts';

const IDR = [0x65, 0x88, 0x84];
const SLICE = [0x41, 0x9a, 0x22];
const TRACKS: ForwardedTrack[] = [
  { kind: 'video', codec: H264 },
  { kind: 'audio', codec: OPUS },
];

interface Sent {
  kind: string;
  seq: number;
  ts: number;
  marker: boolean;
  first: number;
}

function setup(opts: { now?: () => number; accept?: () => boolean } = {}) {
  const sent: Sent[] = [];
  const fanouts = new FanoutRegistry((err) => {
    throw err;
  });
  const f = new ViewerForwarder({
    tracks: TRACKS,
    fanouts,
    ...(opts.now ? { now: opts.now } : {}),
    target: {
      send: (kind, seq, ts, marker, payload) => {
        if (opts.accept && !opts.accept()) return false;
        sent.push({ kind, seq, ts, marker, first: payload[0]! });
        return true;
      },
    },
  });
  return { f, sent, fanouts };
}

const video = (s: FakeSource, seq: number, ts: number, payload = SLICE) =>
  s.emit('video', 102, 40, { seq, ts, payload });
const audio = (s: FakeSource, seq: number, ts: number) =>
  s.emit('audio', 111, 30, { seq, ts, payload: [0xfc] });

void describe('ViewerForwarder', () => {
  void test('nothing is sent before start(); then video starts at a keyframe, audio at once', () => {
    const { f, sent } = setup();
    const s = new FakeSource().goLive();
    f.setSource(s);
    video(s, 1, 0, IDR);
    assert.equal(sent.length, 0, 'not connected yet');
    assert.equal(s.keyframeRequests, 0, 'no keyframe asked before the viewer can receive');
    f.start();
    assert.equal(s.keyframeRequests, 1, 'a joining viewer asks for a keyframe');
    assert.equal(f.waitingForKeyframe, true);
    video(s, 2, 3000);
    audio(s, 10, 960);
    video(s, 3, 6000, IDR);
    video(s, 4, 9000);
    assert.deepEqual(
      sent.map((p) => [p.kind, p.first]),
      [
        ['audio', 0xfc],
        ['video', IDR[0]],
        ['video', SLICE[0]],
      ],
    );
    assert.equal(f.waitingForKeyframe, false);
    assert.equal((sent[2]!.seq - sent[1]!.seq) & 0xffff, 1, 'consecutive');
    assert.equal(sent[2]!.ts - sent[1]!.ts, 3000, 'timestamps keep their spacing');
    assert.equal(f.counters.packetsSent, 3);
  });

  void test('while waiting for a keyframe, the request is repeated every 350 ms, not on every packet', () => {
    let now = 0;
    const { f } = setup({ now: () => now });
    const s = new FakeSource().goLive();
    f.setSource(s);
    f.start();
    for (let i = 0; i < 20; i++) {
      now += 100;
      video(s, i, i * 4500);
    }
    assert.equal(s.keyframeRequests, 6, 'at 0, 0.4, 0.8, 1.2, 1.6 and 2.0 s');
  });

  void test('a new source continues the same sequence numbers and timestamps, at its next keyframe', () => {
    let now = 10_000;
    const { f, sent } = setup({ now: () => now });
    const a = new FakeSource().goLive();
    f.setSource(a);
    f.start();
    video(a, 100, 90_000, IDR);
    video(a, 101, 93_000);
    audio(a, 7, 48_000);
    now += 1500;
    const b = new FakeSource().goLive();
    assert.equal(f.setSource(b), true);
    assert.equal(a.listenerCount('video'), 0, 'the old source is let go');
    assert.equal(b.keyframeRequests, 1, 'the new source is asked for a keyframe');
    video(a, 102, 96_000); // the old source is no longer heard
    video(b, 30_000, 7_777, SLICE); // not a keyframe: held back
    audio(b, 60_000, 123);
    video(b, 30_001, 10_777, IDR);
    const v = sent.filter((p) => p.kind === 'video');
    const au = sent.filter((p) => p.kind === 'audio');
    assert.equal(v.length, 3);
    assert.equal((v[2]!.seq - v[1]!.seq) & 0xffff, 1, 'no gap across sources');
    assert.equal((v[2]!.ts - v[1]!.ts) >>> 0, 1.5 * 90_000, 'video timestamps advance by the wall time');
    assert.equal((au[1]!.seq - au[0]!.seq) & 0xffff, 1);
    assert.equal((au[1]!.ts - au[0]!.ts) >>> 0, 1.5 * 48_000, 'audio too');
    assert.equal(f.counters.sourceChanges, 1);
  });

  void test('a source with another video codec is refused, and nothing changes', () => {
    const { f } = setup();
    const a = new FakeSource().goLive();
    f.setSource(a);
    f.start();
    const vp8 = new FakeSource({ video: VP8 }).goLive();
    assert.equal(f.accepts(vp8), false);
    assert.equal(f.setSource(vp8), false);
    assert.equal(f.source, a);
    assert.equal(vp8.listenerCount('video'), 0);
    const noAudio = new FakeSource({ audio: false }).goLive();
    assert.equal(f.setSource(noAudio), true, 'a source without audio can feed the video');
  });

  void test('without a source the viewer waits; padding-only packets leave no gap', () => {
    const { f, sent } = setup();
    const a = new FakeSource().goLive();
    f.setSource(a);
    f.start();
    video(a, 1, 0, IDR);
    a.emit('video', 102, 12, { seq: 2, ts: 0 }); // header only: padding
    video(a, 3, 3000);
    assert.deepEqual(
      sent.map((p) => (p.seq - sent[0]!.seq) & 0xffff),
      [0, 1],
    );
    assert.equal(f.setSource(undefined), true);
    assert.equal(a.listenerCount('video'), 0);
    video(a, 4, 6000);
    assert.equal(sent.length, 2);
  });

  void test("the viewer's PLI becomes a keyframe request; a target that cannot take a packet counts a drop", () => {
    let accept = true;
    const { f } = setup({ accept: () => accept });
    const s = new FakeSource().goLive();
    f.setSource(s);
    f.start();
    f.requestKeyframe();
    assert.equal(s.keyframeRequests, 2);
    video(s, 1, 0, IDR);
    accept = false;
    video(s, 2, 3000);
    assert.equal(f.counters.packetsSent, 1);
    assert.equal(f.counters.packetsDropped, 1);
  });

  void test('close() lets go of the source and is idempotent', () => {
    const { f, fanouts } = setup();
    const s = new FakeSource().goLive();
    f.setSource(s);
    assert.equal(s.listenerCount('video'), 1);
    f.close();
    f.close();
    assert.equal(s.listenerCount('video'), 0);
    assert.equal(s.listenerCount('audio'), 0);
    assert.equal(fanouts.size, 0);
    assert.equal(f.setSource(s), false);
  });
});

void describe('FanoutRegistry', () => {
  void test('many viewers, one subscription per track; the last one out unsubscribes', () => {
    const fanouts = new FanoutRegistry();
    const s = new FakeSource().goLive();
    const got: number[][] = [[], [], []];
    const stops = got.map((g) => fanouts.listen(s, 'video', (p) => g.push(p.sequenceNumber)));
    assert.equal(s.listenerCount('video'), 1);
    video(s, 5, 0);
    assert.deepEqual(got, [[5], [5], [5]]);
    stops[0]!();
    stops[1]!();
    assert.equal(s.listenerCount('video'), 1);
    stops[2]!();
    assert.equal(s.listenerCount('video'), 0);
    assert.equal(fanouts.size, 0);
  });

  void test('a listener that throws does not stop the others; an ended source is forgotten', () => {
    const errors: unknown[] = [];
    const fanouts = new FanoutRegistry((err) => errors.push(err));
    const s = new FakeSource().goLive();
    const got: number[] = [];
    fanouts.listen(s, 'video', () => {
      throw new Error('bad viewer');
    });
    fanouts.listen(s, 'video', (p) => got.push(p.sequenceNumber));
    video(s, 9, 0);
    assert.deepEqual(got, [9]);
    assert.equal(errors.length, 1);
    s.close();
    assert.equal(fanouts.size, 0);
  });

  void test('the payload is a copy: the source may reuse its buffer', () => {
    const fanouts = new FanoutRegistry();
    const s = new FakeSource().goLive();
    let kept: Buffer | undefined;
    fanouts.listen(s, 'video', (p) => (kept = p.payload));
    video(s, 1, 0, IDR);
    assert.deepEqual([...kept!.subarray(0, 3)], IDR);
    assert.equal(kept!.length, 40 - 12);
  });
});
