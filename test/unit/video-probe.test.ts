import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { parseH264Sps, spsFromH264Payload, VideoProbe } from '../../server/media/video-probe.ts';
import { quietLavfi } from '../helpers/lavfi.ts';

/** Real SPS units from x264 for a given size and profile (Annex B from FFmpeg). */
function spsOf(size: string, profile: string): Uint8Array {
  const es = execFileSync('ffmpeg', [
    ...quietLavfi(`testsrc2=size=${size}:rate=10`),
    '-frames:v',
    '1',
    '-c:v',
    'libx264',
    '-profile:v',
    profile,
    '-pix_fmt',
    'yuv420p',
    '-f',
    'h264',
    'pipe:1',
  ]);
  for (let i = 0; i + 4 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1 && (es[i + 3]! & 0x1f) === 7) {
      let end = i + 3;
      while (
        end + 3 < es.length &&
        !(es[end] === 0 && es[end + 1] === 0 && (es[end + 2] === 1 || es[end + 2] === 0))
      )
        end++;
      return es.subarray(i + 3, end);
    }
  }
  throw new Error('no SPS');
}

for (const [size, profile, w, h] of [
  ['1280x720', 'baseline', 1280, 720],
  ['854x480', 'high', 854, 480],
  ['1920x1080', 'main', 1920, 1080],
  ['640x360', 'high', 640, 360],
] as const) {
  test(`H.264 SPS ${profile} ${size}`, () => {
    assert.deepEqual(parseH264Sps(spsOf(size, profile)), { width: w, height: h });
  });
}

test('STAP-A payloads yield their SPS; truncated SPS throws instead of looping', () => {
  const sps = spsOf('640x360', 'baseline');
  const pps = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);
  const stap = Uint8Array.from([0x18, sps.length >> 8, sps.length & 0xff, ...sps, 0, pps.length, ...pps]);
  assert.equal(spsFromH264Payload(stap).length, 1);
  assert.throws(() => parseH264Sps(sps.subarray(0, 4)));
});

test('the probe counts frames by RTP timestamp and keeps the size', () => {
  const probe = new VideoProbe('H264');
  const sps = spsOf('1280x720', 'baseline');
  for (let f = 0; f < 40; f++) {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 96;
    header.writeUInt32BE(f * 4500, 4);
    probe.push(Buffer.concat([header, Buffer.from(sps)]), 1000 + f * 50);
  }
  assert.deepEqual(probe.format, { width: 1280, height: 720 });
  assert.equal(probe.fps(1000 + 39 * 50), 20);
});
