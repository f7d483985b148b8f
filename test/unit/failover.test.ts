/**
 * The failover switcher with stand-in inputs and a hand-driven clock: which
 * input is on air when, and that the output is one continuous RTP stream (one
 * SSRC, sequence numbers without a gap, timestamps that only move forward,
 * audio kept in step with video).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OnairError } from '../../lib/errors.ts';
import { createLogger } from '../../server/log.ts';
import { readRtpHeader, isKeyframeStart } from '../../server/media/rtp.ts';
import {
  SourceBase,
  type MediaKind,
  type MediaSource,
  type RtpCodec,
  type SourceStats,
  type SourceTrack,
} from '../../server/media/source.ts';
import { FailoverSource, type SwitchEvent } from '../../server/source/failover-source.ts';
import { RtpContinuity } from '../../server/source/rtp-continuity.ts';
import { OPUS } from '../helpers/fake-media.ts';

const log = createLogger('silent');
const H264: RtpCodec = { kind: 'video', name: 'H264', payloadType: 102, clockRate: 90000, fmtp: '' };

function rtp(o: { pt: number; seq: number; ts: number; ssrc: number; payload: number[] }): Buffer {
  const b = Buffer.alloc(12 + o.payload.length);
  b[0] = 0x80;
  b[1] = o.pt;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  Buffer.from(o.payload).copy(b, 12);
  return b;
}

/** An input whose RTP the test sends by hand: a frame every 50 ms, audio every 20 ms. */
class Input extends SourceBase implements MediaSource {
  readonly kind = 'webrtc' as const;
  readonly engine = 'test';
  readonly tracks: readonly SourceTrack[];
  keyframeRequests = 0;
  seq = { video: 1000, audio: 5000 };
  ts = { video: 10_000, audio: 777 };
  readonly ssrc: number;
  readonly id: string;
  sps: number[];

  constructor(id: string, ssrc: number, sps = [0x67, 1, 2, 3]) {
    super();
    this.id = id;
    this.ssrc = ssrc;
    this.sps = sps;
    this.tracks = [
      { id: 'video', kind: 'video', codec: H264, ssrc },
      { id: 'audio', kind: 'audio', codec: OPUS, ssrc: ssrc + 1 },
    ];
  }
  goLive(): this {
    this.goneLive();
    return this;
  }
  /** One video frame (a keyframe carries its SPS in a STAP-A first). */
  frame(key = false): void {
    const payloads = key
      ? [
          [24, 0, this.sps.length, ...this.sps, 0, 2, 0x68, 9],
          [0x65, 0xaa],
        ]
      : [[0x41, 0xbb]];
    for (const p of payloads)
      this.#send(
        'video',
        rtp({ pt: 102, seq: this.seq.video++, ts: this.ts.video, ssrc: this.ssrc, payload: p }),
      );
    this.ts.video += 4500;
  }
  audio(): void {
    this.#send(
      'audio',
      rtp({ pt: 111, seq: this.seq.audio++, ts: this.ts.audio, ssrc: this.ssrc + 1, payload: [0xfc] }),
    );
    this.ts.audio += 960;
  }
  #send(kind: MediaKind, p: Buffer): void {
    this.deliver(kind, p);
  }
  requestKeyframe(): void {
    this.keyframeRequests++;
  }
  stats(): SourceStats {
    return { tracks: [], width: 1280, height: 720, fps: 20 };
  }
}

/** A primary and a backup input, both live and attached to the switcher. */
function attachBoth(sw: FailoverSource): { primary: Input; backup: Input } {
  const primary = new Input('p', 1000).goLive();
  const backup = new Input('b', 2000).goLive();
  sw.setInput('primary', primary);
  sw.setInput('backup', backup);
  return { primary, backup };
}

interface Out {
  kind: MediaKind;
  seq: number;
  ts: number;
  ssrc: number;
  key: boolean;
  at: number;
}

function setup(opts: { slateAfterMs?: number; failback?: 'auto' | 'manual'; slate?: boolean } = {}) {
  let now = 1_000_000;
  const slates: Input[] = [];
  const sw = new FailoverSource({
    id: 'test',
    log,
    failoverAfterMs: 1000,
    slateAfterMs: opts.slateAfterMs ?? 2000,
    failback: opts.failback ?? 'manual',
    now: () => now,
    tickMs: 60_000, // ticks by hand
    standbyKeyframeMs: 2000,
    ...(opts.slate === false
      ? {}
      : {
          createSlate: () => {
            const s = new Input('slate', 9000, [0x67, 9, 9]);
            slates.push(s);
            return s;
          },
        }),
  });
  const out: Out[] = [];
  const events: string[] = [];
  const switches: SwitchEvent[] = [];
  sw.on('active', () => events.push('active'));
  sw.on('idle', (r) => events.push(`idle: ${r}`));
  sw.on('switched', (e) => switches.push(e));
  const listen = () => {
    for (const kind of ['video', 'audio'] as const) {
      sw.subscribe(kind, (p) => {
        const h = readRtpHeader(p)!;
        out.push({
          kind,
          seq: h.sequenceNumber,
          ts: h.timestamp,
          ssrc: h.ssrc,
          key: kind === 'video' && isKeyframeStart('H264', p.subarray(12)),
          at: now,
        });
      });
    }
  };
  /** Advances the clock, sending a frame (and 2.5 audio packets) every 50 ms from each live sender. */
  const run = (ms: number, senders: Input[], keyEveryFrames = 20) => {
    for (let t = 0; t < ms; t += 50) {
      now += 50;
      for (const s of senders) {
        const n = (s as Input & { frames?: number }).frames ?? 0;
        s.frame(n % keyEveryFrames === 0);
        (s as Input & { frames?: number }).frames = n + 1;
        // 20 ms audio packets, as many as real time asks for.
        const sent = (s as Input & { audioMs?: number }).audioMs ?? 0;
        let ms = sent;
        while (ms < (n + 1) * 50) {
          s.audio();
          ms += 20;
        }
        (s as Input & { audioMs?: number }).audioMs = ms;
      }
      sw.tick();
    }
  };
  /** A primary on air for a second, then ended for `reason`. */
  const primaryOnAirThenGone = (reason: string): void => {
    const primary = new Input('p', 1000).goLive();
    sw.setInput('primary', primary);
    run(1000, [primary]);
    primary.close(reason);
  };
  return {
    sw,
    out,
    events,
    switches,
    slates,
    listen,
    run,
    primaryOnAirThenGone,
    clock: {
      get now() {
        return now;
      },
      set now(v: number) {
        now = v;
      },
    },
  };
}

function assertContinuous(out: Out[]): void {
  for (const kind of ['video', 'audio'] as const) {
    const list = out.filter((o) => o.kind === kind);
    assert.ok(list.length > 0, `${kind} out`);
    assert.equal(new Set(list.map((o) => o.ssrc)).size, 1, `${kind}: one SSRC`);
    for (let i = 1; i < list.length; i++) {
      assert.equal(
        list[i]!.seq,
        (list[i - 1]!.seq + 1) & 0xffff,
        `${kind}: no gap in sequence numbers at ${i}`,
      );
      const step = (list[i]!.ts - list[i - 1]!.ts) | 0;
      assert.ok(step >= 0, `${kind}: timestamps move forward at ${i} (step ${step})`);
    }
  }
}

void describe('RtpContinuity', () => {
  void test('one SSRC, next sequence number and a forward timestamp across inputs', () => {
    const c = new RtpContinuity({
      ssrc: 42,
      payloadType: 96,
      clockRate: 90000,
      firstSequenceNumber: 65534,
      firstTimestamp: 100,
    });
    const a = c.rewrite(rtp({ pt: 102, seq: 10, ts: 5000, ssrc: 1, payload: [1] }), 0)!;
    const b = c.rewrite(rtp({ pt: 102, seq: 11, ts: 8000, ssrc: 1, payload: [1] }), 33)!;
    assert.deepEqual(
      [a.readUInt16BE(2), a.readUInt32BE(4), a.readUInt32BE(8), a[1]! & 0x7f],
      [65534, 100, 42, 96],
    );
    assert.deepEqual([b.readUInt16BE(2), b.readUInt32BE(4)], [65535, 3100]);
    // Another input, 1 s later by the wall clock.
    c.startInput(c.timestampAt(1033)!, 3000);
    const d = c.rewrite(rtp({ pt: 100, seq: 900, ts: 123, ssrc: 7, payload: [1] }), 1033)!;
    assert.equal(d.readUInt16BE(2), 0, 'wraps to 0');
    assert.equal(d.readUInt32BE(4), 3100 + 90000);
    assert.equal(d.readUInt32BE(8), 42);
    // An input placed before the last packet is moved after it.
    c.startInput(0, 3000);
    const e = c.rewrite(rtp({ pt: 100, seq: 5, ts: 5, ssrc: 8, payload: [1] }), 2000)!;
    assert.equal(e.readUInt32BE(4), 3100 + 90000 + 3000);
    assert.equal(c.rewrite(Buffer.from([1, 2, 3]), 0), undefined, 'not RTP');
  });
});

void describe('FailoverSource', () => {
  void test('the primary goes on air; a backup alone is on air too', () => {
    const { sw, events, listen, run } = setup();
    const backup = new Input('b', 2000).goLive();
    sw.setInput('backup', backup);
    run(100, [backup]);
    assert.equal(sw.active, 'backup', 'a backup alone is on air');
    assert.deepEqual(events, ['active']);
    listen();
    assert.deepEqual(
      sw.tracks.map((t) => t.codec.name),
      ['H264', 'OPUS'],
    );
    const primary = new Input('p', 1000).goLive();
    sw.setInput('primary', primary);
    run(500, [primary, backup]);
    assert.equal(sw.active, 'backup', 'manual failback: stays on the backup');
    assert.throws(
      () => sw.setInput('backup', new Input('x', 3000)),
      (e) => e instanceof OnairError && e.code === 'publisher_exists',
    );
  });

  void test('the primary stops sending: the backup is on air within the detection time, the stream continuous', () => {
    const { sw, out, switches, listen, run } = setup();
    listen();
    const { primary, backup } = attachBoth(sw);
    run(2000, [primary, backup]);
    assert.equal(sw.active, 'primary');
    assert.ok(backup.keyframeRequests >= 1, 'the standby is asked for keyframes');
    const lastPrimary = out.filter((o) => o.kind === 'video').at(-1)!;
    // The primary's encoder dies: nothing more from it.
    run(1100, [backup]);
    assert.equal(sw.active, 'backup');
    assert.equal(switches.length, 1);
    assert.equal(switches[0]!.from, 'primary');
    assert.equal(switches[0]!.to, 'backup');
    assert.match(switches[0]!.reason, /no media from primary for 1000 ms/);
    const firstBackup = out.find((o) => o.kind === 'video' && o.at > lastPrimary.at)!;
    assert.ok(firstBackup.at - lastPrimary.at <= 1100, 'switched within the detection time');
    assert.equal(firstBackup.key, true, 'the output resumes on a keyframe');
    assert.equal(sw.lastSwitch?.gapMs, firstBackup.at - lastPrimary.at, 'the gap as the stats report it');
    assert.equal(sw.lastSwitch?.at, firstBackup.at);
    run(1000, [backup]);
    assertContinuous(out);
    // Timestamps follow the wall clock across the switch: the gap is the silence, not more.
    const gapTicks = (firstBackup.ts - lastPrimary.ts) | 0;
    assert.ok(gapTicks >= 4500 && gapTicks <= 90000 * 1.2, `video gap ${gapTicks} ticks`);
    assert.equal(sw.switches, 1);
  });

  void test('audio stays in step with video across a switch', () => {
    const { sw, out, listen, run } = setup();
    listen();
    const { primary, backup } = attachBoth(sw);
    run(1000, [primary, backup]);
    primary.close('DELETE');
    run(2000, [backup]);
    // After the switch, the same wall-clock moment maps to the same output time in both tracks.
    const v = out.filter((o) => o.kind === 'video').at(-1)!;
    const a = out.filter((o) => o.kind === 'audio').at(-1)!;
    const firstV = out.filter((o) => o.kind === 'video')[0]!;
    const firstA = out.filter((o) => o.kind === 'audio')[0]!;
    const vSeconds = ((v.ts - firstV.ts) >>> 0) / 90000;
    const aSeconds = ((a.ts - firstA.ts) >>> 0) / 48000;
    assert.ok(Math.abs(vSeconds - aSeconds) < 0.1, `video ${vSeconds} s, audio ${aSeconds} s`);
  });

  void test('all inputs gone: the slate after slateAfterMs; an input back: live again at its keyframe', () => {
    const { sw, out, switches, slates, listen, run, events, primaryOnAirThenGone } = setup();
    listen();
    primaryOnAirThenGone('ICE failed');
    run(1000, []);
    assert.equal(slates.length, 1, 'the slate is started as soon as the last input fails');
    const slate = slates[0]!.goLive();
    // The slate counts from the primary's last packet, though its end was known at once.
    run(900, [slate], 10);
    assert.notEqual(sw.active, 'slate', 'no slate before slateAfterMs without media');
    run(300, [slate], 10);
    assert.equal(sw.active, 'slate');
    assert.equal(switches.at(-1)!.to, 'slate');
    const back = new Input('p2', 3000).goLive();
    sw.setInput('primary', back);
    run(1200, [back, slate], 10);
    assert.equal(sw.active, 'primary');
    assert.equal(switches.at(-1)!.from, 'slate');
    assertContinuous(out);
    assert.ok(sw.slateMs > 0);
    assert.deepEqual(events, ['active'], 'one active session through it all: the encoder never stopped');
  });

  void test('a new publisher in the role on air, before the slate: on air through a switch, the stream continuous', () => {
    const { sw, out, listen, run, primaryOnAirThenGone } = setup();
    listen();
    primaryOnAirThenGone('DELETE');
    run(300, []);
    const second = new Input('p2', 5000).goLive();
    sw.setInput('primary', second);
    run(1500, [second]);
    assert.equal(sw.active, 'primary');
    assert.ok(
      out.filter((o) => o.kind === 'video' && o.at > 1_001_300).length > 10,
      'the new publisher is on air',
    );
    assertContinuous(out);
  });

  void test('without a slate the output goes idle when the last input ends', () => {
    const { sw, events, listen, run } = setup({ slate: false });
    listen();
    const primary = new Input('p', 1000).goLive();
    sw.setInput('primary', primary);
    run(500, [primary]);
    primary.close('DELETE');
    sw.tick();
    assert.equal(sw.active, undefined);
    assert.deepEqual(events, ['active', 'idle: primary ended']);
  });

  void test('automatic failback returns to the primary once it is healthy; a manual switch goes either way', () => {
    const { sw, switches, listen, run } = setup({ failback: 'auto' });
    listen();
    const { primary, backup } = attachBoth(sw);
    run(1000, [primary, backup]);
    run(1200, [backup]);
    assert.equal(sw.active, 'backup');
    run(2500, [primary, backup]);
    assert.equal(sw.active, 'primary', 'automatic failback');
    assert.match(switches.at(-1)!.reason, /automatic failback/);
    sw.configure({ failoverAfterMs: 1000, slateAfterMs: 2000, failback: 'manual' });
    assert.equal(sw.switchTo('backup'), 'backup');
    run(100, [primary, backup]);
    assert.equal(sw.active, 'backup');
    assert.equal(sw.switchTo(), 'primary', 'no target: the other input');
    backup.close('gone');
    assert.throws(
      () => sw.switchTo('backup'),
      (e) => e instanceof OnairError && e.code === 'input_unavailable',
    );
  });

  void test('different H.264 parameter sets are reported (passthrough needs a new run)', () => {
    const { sw, switches, listen, run } = setup();
    listen();
    const primary = new Input('p', 1000, [0x67, 1]).goLive();
    const backup = new Input('b', 2000, [0x67, 2]).goLive();
    sw.setInput('primary', primary);
    sw.setInput('backup', backup);
    run(1000, [primary, backup]);
    run(1100, [backup]);
    assert.equal(switches[0]!.reconfigured, true);
    sw.close();
    sw.close();
    assert.equal(backup.state, 'ended', 'close ends the inputs');
  });
});
