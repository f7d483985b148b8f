/** RTP header reading, keyframe detection and the sequence/timestamp rewriter. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyRtpView, isKeyframeStart, readRtp, seqNewer } from '../../server/media/rtp.ts';
import { RtpRewriter } from '../../server/sfu/rtp-rewriter.ts';

function rtp(opts: {
  seq?: number;
  ts?: number;
  pt?: number;
  marker?: boolean;
  csrcs?: number;
  ext?: number[];
  payload?: number[];
  padding?: number;
}): Buffer {
  const csrcs = opts.csrcs ?? 0;
  const ext = opts.ext ? [0xbe, 0xde, 0, Math.ceil(opts.ext.length / 4), ...opts.ext] : [];
  while (opts.ext && ext.length % 4 !== 0) ext.push(0);
  const padding = opts.padding ? [...Array<number>(opts.padding - 1).fill(0), opts.padding] : [];
  const head = Buffer.alloc(12 + csrcs * 4);
  head[0] = 0x80 | (opts.ext ? 0x10 : 0) | (opts.padding ? 0x20 : 0) | csrcs;
  head[1] = (opts.marker ? 0x80 : 0) | (opts.pt ?? 96);
  head.writeUInt16BE(opts.seq ?? 1, 2);
  head.writeUInt32BE(opts.ts ?? 0, 4);
  head.writeUInt32BE(0xdeadbeef, 8);
  return Buffer.concat([
    head,
    Buffer.from(ext),
    Buffer.from(opts.payload ?? [1, 2, 3]),
    Buffer.from(padding),
  ]);
}

void describe('readRtp', () => {
  void test('reads the fixed header, and finds the payload after CSRCs and the extension, before padding', () => {
    const v = emptyRtpView();
    assert.ok(readRtp(rtp({ seq: 65535, ts: 0xfffffff0, pt: 111, marker: true }), v));
    assert.deepEqual(v, {
      payloadType: 111,
      marker: true,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      payloadOffset: 12,
      payloadEnd: 15,
    });
    const p = rtp({ csrcs: 2, ext: [0x10, 0xaa, 0xbb], payload: [9, 8, 7, 6], padding: 4 });
    assert.ok(readRtp(p, v));
    assert.equal(v.payloadOffset, 12 + 8 + 4 + 4);
    assert.deepEqual([...p.subarray(v.payloadOffset, v.payloadEnd)], [9, 8, 7, 6]);
  });

  void test('refuses what is not RTP v2 or is truncated', () => {
    const v = emptyRtpView();
    assert.equal(readRtp(Buffer.alloc(11), v), false);
    const v1 = rtp({});
    v1[0] = 0x40;
    assert.equal(readRtp(v1, v), false);
    const truncatedExt = rtp({ ext: [1, 2, 3, 4] }).subarray(0, 14);
    assert.equal(readRtp(truncatedExt, v), false);
    const badPadding = rtp({ payload: [] });
    badPadding[0]! |= 0x20;
    badPadding[badPadding.length - 1] = 200;
    assert.equal(readRtp(badPadding, v), false);
  });

  void test('sequence numbers compare across the wrap', () => {
    assert.equal(seqNewer(1, 65535), true);
    assert.equal(seqNewer(65535, 1), false);
    assert.equal(seqNewer(100, 100), false);
    assert.equal(seqNewer(0x8000 + 5, 5), false, 'half the space away is not newer');
  });
});

void describe('isKeyframeStart', () => {
  void test('H.264: IDR or SPS alone, in a STAP-A, or the first FU-A fragment of an IDR', () => {
    assert.equal(isKeyframeStart('H264', Buffer.from([0x65, 0x88])), true, 'IDR');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x67, 0x42])), true, 'SPS');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x41, 0x9a])), false, 'non-IDR slice');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x68, 0xce])), false, 'PPS alone');
    const stap = Buffer.from([0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce]);
    assert.equal(isKeyframeStart('H264', stap), true, 'STAP-A with SPS');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x78, 0, 2, 0x06, 0x05, 0, 1, 0x41])), false);
    assert.equal(isKeyframeStart('H264', Buffer.from([0x7c, 0x85, 0xb8])), true, 'FU-A start of IDR');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x7c, 0x05, 0xb8])), false, 'FU-A middle');
    assert.equal(isKeyframeStart('H264', Buffer.from([0x7c, 0x81, 0xb8])), false, 'FU-A start of non-IDR');
    assert.equal(isKeyframeStart('H264', Buffer.alloc(0)), false);
  });

  void test('VP8: start of partition 0 with the P bit clear, with or without the extended descriptor', () => {
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x10, 0x50, 0x9d])), true);
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x10, 0x51, 0x9d])), false, 'interframe');
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x00, 0x50])), false, 'not a partition start');
    // X with a 15-bit PictureID: descriptor 4 bytes, then the frame tag.
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x90, 0x80, 0x81, 0x23, 0x50])), true);
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x90, 0x80, 0x81, 0x23, 0x31])), false);
    // X with a 7-bit PictureID, TL0PICIDX and TID.
    assert.equal(isKeyframeStart('VP8', Buffer.from([0x90, 0xe0, 0x12, 0x01, 0x40, 0x50])), true);
  });

  void test('audio always starts', () => {
    assert.equal(isKeyframeStart('OPUS', Buffer.from([1])), true);
  });
});

void describe('RtpRewriter', () => {
  void test('the first stream starts at the chosen point; later packets keep their offsets, across the 16-bit wrap', () => {
    const r = new RtpRewriter(90000, { now: () => 0, initialSeq: 100, initialTs: 5000 });
    assert.deepEqual({ ...r.map(65534, 1_000_000)! }, { sequenceNumber: 100, timestamp: 5000 });
    assert.deepEqual({ ...r.map(65535, 1_003_000)! }, { sequenceNumber: 101, timestamp: 8000 });
    assert.deepEqual({ ...r.map(0, 1_006_000)! }, { sequenceNumber: 102, timestamp: 11000 });
    assert.deepEqual({ ...r.map(1, 1_006_000)! }, { sequenceNumber: 103, timestamp: 11000 });
  });

  void test('a new stream continues one sequence number and the elapsed wall time later', () => {
    let now = 1000;
    const r = new RtpRewriter(90000, { now: () => now, initialSeq: 500, initialTs: 0 });
    r.map(10, 90000);
    r.map(11, 93000);
    now += 2500;
    r.rebase();
    assert.equal(r.rebasing, true);
    // The new publisher's random bases.
    const first = { ...r.map(40000, 123456)! };
    assert.equal(first.sequenceNumber, 502);
    assert.equal(first.timestamp, 3000 + 2.5 * 90000);
    assert.deepEqual({ ...r.map(40001, 126456)! }, { sequenceNumber: 503, timestamp: 3000 + 225000 + 3000 });
  });

  void test('a rebase at once still moves time forward', () => {
    const r = new RtpRewriter(48000, { now: () => 0, initialSeq: 1, initialTs: 100 });
    r.map(1, 0);
    r.rebase();
    const next = r.map(7, 999)!;
    assert.equal(next.sequenceNumber, 2);
    assert.ok(next.timestamp > 100, 'timestamp moves forward');
  });

  void test('reordered packets keep their place; packets older than the stream start are dropped', () => {
    const r = new RtpRewriter(90000, { now: () => 0, initialSeq: 1000, initialTs: 0 });
    assert.equal(r.map(50, 0)!.sequenceNumber, 1000);
    assert.equal(r.map(52, 0)!.sequenceNumber, 1002);
    assert.equal(r.map(51, 0)!.sequenceNumber, 1001, 'late but inside the stream');
    assert.equal(r.map(49, 0), undefined, 'older than the first packet of the stream');
    assert.equal(r.map(53, 0)!.sequenceNumber, 1003);
  });

  void test('skipped packets (padding) leave no gap; late packets from before a skip are dropped', () => {
    const r = new RtpRewriter(90000, { now: () => 0, initialSeq: 10, initialTs: 0 });
    assert.equal(r.map(100, 0)!.sequenceNumber, 10);
    r.skip(101);
    r.skip(102);
    assert.equal(r.map(103, 0)!.sequenceNumber, 11);
    r.skip(103); // not newer: ignored
    assert.equal(r.map(104, 0)!.sequenceNumber, 12);
    // 105 lost, 106 skipped: the loss stays visible, the skip does not.
    r.skip(106);
    assert.equal(r.map(107, 0)!.sequenceNumber, 14);
    assert.equal(r.map(105, 0), undefined, 'too late to place after a skip');
  });
});
