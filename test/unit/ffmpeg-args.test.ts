/**
 * Golden tests for the FFmpeg argv and the input SDP (the goldens were written from commands verified
 * with real FFmpeg 5.1, see ffmpeg-run.test.ts), plus the -progress parser and /proc/net/udp parsing.
 * Regenerate after a deliberate change: UPDATE_GOLDEN=1 node --test test/unit/ffmpeg-args.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { LADDERS, type LadderName } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import { buildFfmpegArgs, type FfmpegArgs } from '../../server/transcode/ffmpeg-args.ts';
import { buildInputSdp, type InputSdpOptions } from '../../server/transcode/input-sdp.ts';
import { ProgressParser, parseProgressBlock } from '../../server/transcode/progress.ts';
import {
  allocateUdpPorts,
  isUdpPortBound,
  parseProcNetUdp,
  waitForUdpPort,
} from '../../server/transcode/udp-port.ts';

const GOLDEN = new URL('../golden/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const RUN_DIR = '/var/lib/onair/runs/ch_1/run_1';

async function golden(name: string, actual: string): Promise<void> {
  const file = new URL(name, GOLDEN);
  if (UPDATE) await writeFile(file, actual);
  assert.equal(actual, await readFile(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to rewrite)`);
}

function build(ladder: LadderName, mode: ChannelMode, segmentSeconds: number, hasAudio: boolean): FfmpegArgs {
  return buildFfmpegArgs({
    ladder: LADDERS[ladder],
    mode,
    segmentSeconds,
    sdpPath: `${RUN_DIR}/input.sdp`,
    runDir: RUN_DIR,
    hasAudio,
  });
}

describe('buildFfmpegArgs goldens', () => {
  const cases: [string, LadderName, ChannelMode, number, boolean][] = [
    ['encode-720p', '720p', 'encode', 2, true],
    ['encode-1080p', '1080p', 'encode', 4, true],
    ['encode-480p', '480p', 'encode', 2, true],
    ['encode-720p-noaudio', '720p', 'encode', 2, false],
    ['passthrough', '720p', 'passthrough', 2, true],
    ['passthrough-noaudio', '720p', 'passthrough', 2, false],
  ];
  for (const [name, ladder, mode, seg, audio] of cases) {
    test(name, async () => {
      await golden(`ffmpeg-${name}.json`, JSON.stringify(build(ladder, mode, seg, audio), null, 2) + '\n');
    });
  }
  test('passthrough-abr: three renditions copied, each its own output, and audio', async () => {
    const built = buildFfmpegArgs({
      ladder: LADDERS['720p'],
      mode: 'passthrough-abr',
      segmentSeconds: 2,
      sdpPath: `${RUN_DIR}/input.sdp`,
      runDir: RUN_DIR,
      hasAudio: true,
      videoTrackIds: ['1080p', '720p', '360p'],
    });
    await golden('ffmpeg-passthrough-abr.json', JSON.stringify(built, null, 2) + '\n');
    assert.deepEqual(
      built.tracks.map((t) => t.id),
      ['1080p', '720p', '360p', 'audio'],
    );
    assert.ok(!built.args.includes('libx264'), 'nothing is encoded');
    assert.equal(built.args.filter((a) => a === 'copy').length, 3);
  });
  test('passthrough-abr refuses no renditions, bad or repeated names', () => {
    const opts = {
      ladder: LADDERS['720p'],
      mode: 'passthrough-abr' as const,
      segmentSeconds: 2,
      sdpPath: `${RUN_DIR}/input.sdp`,
      runDir: RUN_DIR,
      hasAudio: false,
    };
    assert.throws(() => buildFfmpegArgs({ ...opts, videoTrackIds: [] }), RangeError);
    assert.throws(() => buildFfmpegArgs({ ...opts, videoTrackIds: ['a/b'] }), RangeError);
    assert.throws(() => buildFfmpegArgs({ ...opts, videoTrackIds: ['audio'] }), RangeError);
    assert.throws(() => buildFfmpegArgs({ ...opts, videoTrackIds: ['hd', 'hd'] }), RangeError);
  });
  test('input SDP with several video streams', () => {
    const sdp = buildInputSdp({
      address: '127.0.0.1',
      video: { codec: 'H264', payloadType: 96, clockRate: 90000, fmtp: 'packetization-mode=1', port: 40000 },
      moreVideo: [
        { codec: 'H264', payloadType: 96, clockRate: 90000, fmtp: 'packetization-mode=1', port: 40002 },
        { codec: 'H264', payloadType: 96, clockRate: 90000, fmtp: 'packetization-mode=1', port: 40004 },
      ],
      audio: { codec: 'opus', payloadType: 111, clockRate: 48000, channels: 2, port: 40006 },
    });
    assert.deepEqual(
      sdp.split('\r\n').filter((l) => l.startsWith('m=')),
      [
        'm=audio 40006 RTP/AVP 111',
        'm=video 40000 RTP/AVP 96',
        'm=video 40002 RTP/AVP 96',
        'm=video 40004 RTP/AVP 96',
      ],
    );
    assert.throws(
      () =>
        buildInputSdp({
          address: '127.0.0.1',
          video: { codec: 'H264', payloadType: 96, clockRate: 90000, port: 40000 },
          moreVideo: [{ codec: 'H264', payloadType: 96, clockRate: 90000, port: 40001 }],
        }),
      RangeError,
    );
  });
});

describe('buildFfmpegArgs', () => {
  test('tracks: one per rendition, then audio', () => {
    const { tracks } = build('1080p', 'encode', 2, true);
    assert.deepEqual(
      tracks.map((t) => [t.id, t.kind, t.bandwidth, t.width, t.height]),
      [
        ['1080p', 'video', 5_000_000, 1920, 1080],
        ['720p', 'video', 3_000_000, 1280, 720],
        ['480p', 'video', 1_400_000, 854, 480],
        ['360p', 'video', 800_000, 640, 360],
        ['audio', 'audio', 128_000, undefined, undefined],
      ],
    );
    assert.deepEqual(
      build('720p', 'passthrough', 2, false).tracks.map((t) => t.id),
      ['source'],
    );
  });

  test('layout: one dash output per track directory, fixed names, parts, input timeout', () => {
    const { args } = buildFfmpegArgs({
      ladder: LADDERS['720p'],
      mode: 'encode',
      segmentSeconds: 3,
      sdpPath: '/x/input.sdp',
      runDir: '/x/',
      inputTimeoutSeconds: 5,
      hasAudio: true,
    });
    const after = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    const outputs = args.filter((a) => a.endsWith('/manifest.mpd'));
    assert.deepEqual(outputs, [
      '/x/720p/manifest.mpd',
      '/x/480p/manifest.mpd',
      '/x/360p/manifest.mpd',
      '/x/audio/manifest.mpd',
    ]);
    assert.equal(args.filter((a) => a === 'dash').length, 4);
    assert.equal(after('-media_seg_name'), 'seg_$Number%05d$.m4s');
    assert.equal(after('-init_seg_name'), 'init.mp4');
    assert.equal(after('-listen_timeout'), '5');
    assert.equal(after('-seg_duration'), '3');
    assert.equal(after('-frag_duration'), '0.5');
    assert.equal(after('-streaming'), '1');
    assert.equal(after('-force_key_frames'), 'expr:gte(t,n_forced*3)');
    assert.equal(after('-remove_at_exit'), '0');
  });

  test('rejects bad input', () => {
    const base = { ladder: LADDERS['720p'], mode: 'encode' as const, sdpPath: '/x/in.sdp', hasAudio: true };
    assert.throws(() => buildFfmpegArgs({ ...base, segmentSeconds: 0, runDir: '/x' }), RangeError);
    assert.throws(() => buildFfmpegArgs({ ...base, segmentSeconds: 1.5, runDir: '/x' }), RangeError);
    assert.throws(() => buildFfmpegArgs({ ...base, segmentSeconds: 2, runDir: '/x/%d' }), RangeError);
    assert.throws(
      () => buildFfmpegArgs({ ...base, segmentSeconds: 2, runDir: '/x', inputTimeoutSeconds: 0 }),
      RangeError,
    );
  });
});

describe('buildInputSdp', () => {
  const sdp: InputSdpOptions = {
    address: '127.0.0.1',
    video: {
      codec: 'H264',
      payloadType: 102,
      clockRate: 90000,
      fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      port: 40000,
    },
    audio: { codec: 'opus', payloadType: 111, clockRate: 48000, channels: 2, port: 40002 },
  };

  test('H.264 + Opus golden', async () => {
    await golden('input-sdp-h264-opus.sdp', buildInputSdp(sdp));
  });

  test('VP8 without audio or fmtp golden', async () => {
    await golden(
      'input-sdp-vp8.sdp',
      buildInputSdp({
        address: '127.0.0.1',
        video: { codec: 'VP8', payloadType: 96, clockRate: 90000, port: 50000 },
      }),
    );
  });

  test('rejects overlapping ports, bad payload types and multi-line fmtp', () => {
    assert.throws(() => buildInputSdp({ ...sdp, audio: { ...sdp.audio!, port: 40001 } }), RangeError);
    assert.throws(() => buildInputSdp({ ...sdp, video: { ...sdp.video, payloadType: 128 } }), RangeError);
    assert.throws(() => buildInputSdp({ ...sdp, video: { ...sdp.video, port: 65535 } }), RangeError);
    assert.throws(
      () => buildInputSdp({ ...sdp, video: { ...sdp.video, fmtp: 'a=1\r\nm=audio 9 RTP/AVP 0' } }),
      RangeError,
    );
  });
});

// Captured from FFmpeg 5.1 running the encode-720p argv.
const BLOCK = `frame=129
fps=19.87
stream_0_0_q=24.0
stream_0_1_q=23.0
stream_0_2_q=22.0
bitrate=N/A
total_size=N/A
out_time_us=6506667
out_time_ms=6506667
out_time=00:00:06.506667
dup_frames=0
drop_frames=0
speed=0.866x
progress=continue
`;

describe('progress parser', () => {
  test('parses a block', () => {
    assert.deepEqual(parseProgressBlock(BLOCK), {
      frame: 129,
      fps: 19.87,
      speed: 0.866,
      outTimeMs: 6506.667,
      dupFrames: 0,
      dropFrames: 0,
      progress: 'continue',
    });
  });

  test('N/A, padded speed, bitrate, size and end', () => {
    assert.deepEqual(
      parseProgressBlock(
        'frame=0\nfps=0.00\nbitrate=1523.4kbits/s\ntotal_size=1048576\nout_time_us=N/A\nspeed= 104x\nprogress=end\n',
      ),
      { frame: 0, fps: 0, bitrateKbps: 1523.4, totalSizeBytes: 1048576, speed: 104, progress: 'end' },
    );
    assert.deepEqual(parseProgressBlock('out_time_us=-9223372036854775807\nspeed=N/A\nprogress=continue'), {
      progress: 'continue',
    });
    // out_time_ms is microseconds too (FFmpeg naming bug); used only without out_time_us
    assert.equal(parseProgressBlock('out_time_ms=2000000\nprogress=continue').outTimeMs, 2000);
  });

  test('incremental: chunks split anywhere, CRLF, several blocks per chunk', () => {
    const parser = new ProgressParser();
    const text = BLOCK + BLOCK.replace('frame=129', 'frame=130').replace('progress=continue', 'progress=end');
    const got = [];
    for (let i = 0; i < text.length; i += 7) got.push(...parser.push(text.slice(i, i + 7)));
    assert.deepEqual(
      got.map((s) => [s.frame, s.progress]),
      [
        [129, 'continue'],
        [130, 'end'],
      ],
    );
    const crlf = new ProgressParser();
    assert.deepEqual(crlf.push('frame=5\r\nprogress=continue\r\nframe=6\r\n'), [
      { frame: 5, progress: 'continue' },
    ]);
    assert.deepEqual(crlf.push('progress=end\r\n'), [{ frame: 6, progress: 'end' }]);
  });
});

describe('udp ports', () => {
  test('parseProcNetUdp', () => {
    const text = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 8009: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 37836 2 00000000d24f398a 0
 8010: 00000000:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 37837 2 000000000fd8eb0f 0
`;
    const v6 = `  sl  local_address                         remote_address                        st
  12: 00000000000000000000000001000000:14E9 00000000000000000000000000000000:0000 07`;
    assert.deepEqual([...parseProcNetUdp(text)], [40000, 40001]);
    assert.deepEqual([...parseProcNetUdp(v6)], [5353]);
  });

  test('allocateUdpPorts gives distinct even ports with port + 1 free; waitForUdpPort sees a bind', async () => {
    const ports = await allocateUdpPorts(3);
    assert.equal(new Set(ports).size, 3);
    for (const p of ports) {
      assert.equal(p % 2, 0);
      assert.equal(await isUdpPortBound(p), false);
      assert.equal(await isUdpPortBound(p + 1), false);
    }
    const port = ports[0]!;
    const socket = createSocket('udp4');
    const waiting = waitForUdpPort(port, 2000, { intervalMs: 10 });
    setTimeout(() => socket.bind(port, '127.0.0.1'), 100);
    await waiting;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    await assert.rejects(waitForUdpPort(port, 100, { intervalMs: 10 }), /not bound within/);
  });
});
