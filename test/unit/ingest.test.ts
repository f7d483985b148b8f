/**
 * The pure parts of RTMP and SRT ingest: the remuxer's argv (golden), RTMP
 * paths, FLV tags, the MPEG-TS program reader, keyframe alignment across
 * renditions, srt-live-transmit's argv and statistics, and the URLs a channel shows.
 * Regenerate the golden after a deliberate change: UPDATE_GOLDEN=1 node --test test/unit/ingest.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { loadConfig } from '../../server/config.ts';
import { ingestUrls } from '../../server/core/control-plane.ts';
import { KeyframeAlignment } from '../../server/ingest/keyframe-alignment.ts';
import { TsProgramReader } from '../../server/ingest/mpegts.ts';
import { buildRemuxArgs } from '../../server/ingest/remux-args.ts';
import { flvHeader, flvTag, profileLevelIdOf } from '../../server/ingest/rtmp-publisher.ts';
import { parseRtmpTarget } from '../../server/ingest/rtmp-server.ts';
import { buildSrtListenerArgs, isOrphanedListener, parseSrtStats } from '../../server/ingest/srt-listener.ts';

const GOLDEN = new URL('../golden/', import.meta.url);
async function golden(name: string, actual: string): Promise<void> {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1') await writeFile(file, actual);
  assert.equal(actual, await readFile(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to rewrite)`);
}

describe('buildRemuxArgs', () => {
  test('FLV with audio: H.264 copied with SPS/PPS in band, AAC to Opus, RTCP to the same port', async () => {
    const args = buildRemuxArgs({
      input: 'flv',
      video: { port: 40000, payloadType: 96, ssrc: 1234 },
      audio: { port: 40002, payloadType: 111, ssrc: 5678 },
    });
    await golden('remux-flv-audio.json', JSON.stringify(args, null, 2) + '\n');
  });
  test('MPEG-TS without audio has one RTP output', () => {
    const args = buildRemuxArgs({ input: 'mpegts', video: { port: 40000, payloadType: 96, ssrc: 1 } });
    assert.equal(args.filter((a) => a === 'rtp').length, 1);
    assert.ok(args.includes('mpegts'));
    assert.ok(!args.includes('libopus'));
  });
  test('refuses static payload types and out-of-range SSRCs', () => {
    assert.throws(
      () => buildRemuxArgs({ input: 'flv', video: { port: 1, payloadType: 33, ssrc: 1 } }),
      RangeError,
    );
    assert.throws(
      () => buildRemuxArgs({ input: 'flv', video: { port: 1, payloadType: 96, ssrc: 0x80000000 } }),
      RangeError,
    );
  });
});

describe('parseRtmpTarget', () => {
  test("OBS's split (app live, name key) and FFmpeg's (app live/key, name rendition) mean the same", () => {
    assert.deepEqual(parseRtmpTarget('live', 'sk_abc'), {
      role: 'primary',
      key: 'sk_abc',
      rendition: undefined,
    });
    assert.deepEqual(parseRtmpTarget('live/sk_abc', '720p'), {
      role: 'primary',
      key: 'sk_abc',
      rendition: '720p',
    });
    assert.deepEqual(parseRtmpTarget('live', 'sk_abc/720p'), {
      role: 'primary',
      key: 'sk_abc',
      rendition: '720p',
    });
    assert.deepEqual(parseRtmpTarget('live-backup', 'sk_abc'), {
      role: 'backup',
      key: 'sk_abc',
      rendition: undefined,
    });
  });
  test('unknown apps, missing keys and odd rendition names are errors', () => {
    assert.ok('error' in parseRtmpTarget('app', 'sk_abc'));
    assert.ok('error' in parseRtmpTarget('live', ''));
    assert.ok('error' in parseRtmpTarget('live', 'sk_abc/a b'));
    assert.ok('error' in parseRtmpTarget('live', 'sk_abc/a/b'));
  });
});

describe('FLV tags', () => {
  test('a tag has its header, body and previous-tag size; timestamps above 24 bits use the extension', () => {
    const tag = flvTag(9, 0x12345678, Buffer.from([1, 2, 3]));
    assert.equal(tag.length, 11 + 3 + 4);
    assert.equal(tag[0], 9);
    assert.equal(tag.readUIntBE(1, 3), 3);
    assert.equal(tag.readUIntBE(4, 3), 0x345678);
    assert.equal(tag[7], 0x12);
    assert.equal(tag.readUInt32BE(14), 14);
    assert.deepEqual([...flvHeader(true).subarray(0, 5)], [0x46, 0x4c, 0x56, 1, 5]);
    assert.equal(flvHeader(false)[4], 1);
  });
  test('the profile-level-id of an AVC sequence header', () => {
    const body = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1f, 0xff]);
    assert.equal(profileLevelIdOf(body), '64001f');
    assert.equal(profileLevelIdOf(Buffer.from([0x17, 0, 0, 0, 0])), undefined);
  });
});

/** A 188-byte TS packet carrying one PSI section. */
function psiPacket(pid: number, section: number[]): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p[0] = 0x47;
  p[1] = 0x40 | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10;
  p[4] = 0; // pointer field
  Buffer.from(section).copy(p, 5);
  return p;
}

function pmt(streams: number[][]): number[] {
  const body = [0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, ...streams.flat()];
  const length = body.length + 4; // + CRC
  return [0x02, 0xb0 | (length >> 8), length & 0xff, ...body, 0, 0, 0, 0];
}

describe('TsProgramReader', () => {
  const pat = psiPacket(
    0,
    [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0, 0, 0, 0],
  );
  test('H.264 and AAC, in any chunking, after garbage', () => {
    const stream = Buffer.concat([
      Buffer.from([1, 2, 3]),
      pat,
      psiPacket(
        0x1000,
        pmt([
          [0x1b, 0xe1, 0x00, 0xf0, 0x00],
          [0x0f, 0xe1, 0x01, 0xf0, 0x00],
        ]),
      ),
    ]);
    const r = new TsProgramReader();
    let program;
    for (let i = 0; i < stream.length; i += 50) program = r.push(stream.subarray(i, i + 50)) ?? program;
    assert.deepEqual(program, { video: 'H264', audio: 'AAC' });
  });
  test('HEVC and Opus (a registration descriptor); video only', () => {
    const r = new TsProgramReader();
    const opus = [0x06, 0xe1, 0x01, 0xf0, 0x06, 0x05, 0x04, 0x4f, 0x70, 0x75, 0x73];
    assert.deepEqual(
      r.push(Buffer.concat([pat, psiPacket(0x1000, pmt([[0x24, 0xe1, 0x00, 0xf0, 0x00], opus]))])),
      {
        video: 'HEVC',
        audio: 'OPUS',
      },
    );
    const v = new TsProgramReader();
    assert.deepEqual(v.push(Buffer.concat([pat, psiPacket(0x1000, pmt([[0x1b, 0xe1, 0x00, 0xf0, 0x00]]))])), {
      video: 'H264',
      audio: undefined,
    });
  });
});

describe('KeyframeAlignment', () => {
  function feed(
    a: KeyframeAlignment,
    gops: Record<string, number>,
    seconds: number,
    offsetMs: Record<string, number> = {},
  ) {
    const found = [];
    for (let t = 0; t <= seconds * 1000; t += 40) {
      for (const [name, gop] of Object.entries(gops)) {
        const ts = t + (offsetMs[name] ?? 0);
        found.push(...a.frame(name, ts, ts % gop === 0));
      }
    }
    return found;
  }
  test('renditions with the same keyframes are aligned', () => {
    const a = new KeyframeAlignment();
    assert.deepEqual(feed(a, { '720p': 2000, '480p': 2000, '360p': 2000 }, 10), []);
    assert.ok(a.checked >= 9, `judged ${a.checked}`);
  });
  test('a rendition with another keyframe interval is misaligned', () => {
    const a = new KeyframeAlignment();
    const found = feed(a, { '720p': 2000, '360p': 3000 }, 10);
    assert.ok(found.length > 0);
    assert.ok(found.some((m) => m.rendition === '720p' && m.other === '360p' && m.at === 2000));
  });
  test('a rendition that joins later is judged from its first keyframe on', () => {
    const a = new KeyframeAlignment();
    for (let t = 0; t < 4000; t += 40) assert.deepEqual(a.frame('720p', t, t % 2000 === 0), []);
    const found = [];
    for (let t = 4000; t < 10000; t += 40) {
      found.push(...a.frame('720p', t, t % 2000 === 0), ...a.frame('360p', t, t % 2000 === 0));
    }
    assert.deepEqual(found, []);
  });
});

describe('SRT listener', () => {
  test('argv: a listener with the key as enforced passphrase, MPEG-TS to stdout, stats on fd 3', () => {
    const args = buildSrtListenerArgs({ host: '0.0.0.0', port: 9001, passphrase: 'sk_a&b', latencyMs: 200 });
    assert.equal(args.at(-1), 'file://con');
    const url = new URL(args.at(-2)!.replace('srt://:', 'srt://any:'));
    assert.equal(url.port, '9001');
    assert.equal(url.searchParams.get('mode'), 'listener');
    assert.equal(url.searchParams.get('passphrase'), 'sk_a&b');
    assert.equal(url.searchParams.get('latency'), '200');
    assert.equal(url.searchParams.get('enforced_encryption'), 'yes');
    assert.ok(args.includes('-statsout:/dev/fd/3'));
    assert.ok(args.includes('-a:no'));
  });
  test('statistics lines', () => {
    assert.deepEqual(
      parseSrtStats(
        '{"sid":1,"link":{"rtt":12.5},"recv":{"packets":100,"packetsLost":3,"packetsRetransmitted":2,"packetsDropped":1}}',
      ),
      { lost: 3, retransmitted: 2, dropped: 1, rttMs: 12.5 },
    );
    assert.equal(parseSrtStats('Accepted SRT source connection'), undefined);
    assert.equal(parseSrtStats('{"sid":1,'), undefined);
  });
  test('a listener left on its port by an onair that died is recognised; a live one is not', () => {
    const cmdline = buildSrtListenerArgs({
      host: '127.0.0.1',
      port: 9001,
      passphrase: 'sk_x',
      latencyMs: 120,
    });
    const full = ['/usr/bin/srt-live-transmit', ...cmdline];
    assert.equal(isOrphanedListener({ cmdline: full, ppid: 1, parentComm: 'systemd' }, 9001), true);
    assert.equal(isOrphanedListener({ cmdline: full, ppid: 77, parentComm: 'bash' }, 9001), true);
    assert.equal(
      isOrphanedListener({ cmdline: full, ppid: 77, parentComm: 'node' }, 9001),
      false,
      'a running onair',
    );
    assert.equal(
      isOrphanedListener({ cmdline: full, ppid: 1, parentComm: undefined }, 9000),
      false,
      'another port',
    );
    assert.equal(
      isOrphanedListener({ cmdline: full, ppid: 1, parentComm: undefined }, 900),
      false,
      'a prefix of it',
    );
    const caller = ['srt-live-transmit', 'srt://127.0.0.1:9001?mode=caller', 'file://con'];
    assert.equal(isOrphanedListener({ cmdline: caller, ppid: 1, parentComm: undefined }, 9001), false);
  });
});

describe('ingest URLs and configuration', () => {
  const c = { streamKey: 'sk_K-y_1', srtPort: 9003, srtBackupPort: 9004, srtLatencyMs: 120 };
  test('RTMP on the standard port has none in the URL; SRT carries the key and the latency in µs', () => {
    const u = ingestUrls('https://live.example.com', { rtmp: 1935, srtRange: [9000, 9099] }, c);
    assert.equal(u.rtmp, 'rtmp://live.example.com/live');
    assert.equal(u.rtmps, null);
    assert.equal(
      u.srt,
      'srt://live.example.com:9003?mode=caller&latency=120000&pbkeylen=16&passphrase=sk_K-y_1',
    );
    // The backup input: its own RTMP application and its own SRT port, the same key.
    assert.equal(u.rtmpBackup, 'rtmp://live.example.com/live-backup');
    assert.equal(
      u.srtBackup,
      'srt://live.example.com:9004?mode=caller&latency=120000&pbkeylen=16&passphrase=sk_K-y_1',
    );
    const v = ingestUrls('http://127.0.0.1:3000', { rtmp: 19350, rtmps: 443 }, c);
    assert.equal(v.rtmp, 'rtmp://127.0.0.1:19350/live');
    assert.equal(v.rtmps, 'rtmps://127.0.0.1/live');
    assert.equal(v.srt, null, 'SRT off');
    assert.equal(v.srtBackup, null, 'SRT off');
    assert.equal(v.rtmpBackup, 'rtmp://127.0.0.1:19350/live-backup');
  });
  test('relative base URLs give no ingest URLs', () => {
    assert.deepEqual(ingestUrls('', { rtmp: 1935 }, c), {
      rtmp: null,
      rtmps: null,
      srt: null,
      rtmpBackup: null,
      srtBackup: null,
    });
  });
  test('defaults: RTMP on 1935, SRT on 9000–9099, no RTMPS; 0 turns them off', () => {
    const d = loadConfig({});
    assert.equal(d.rtmpPort, 1935);
    assert.equal(d.rtmps, undefined);
    assert.deepEqual(d.srtPortRange, [9000, 9099]);
    assert.equal(d.srtTransmitPath, 'srt-live-transmit');
    const off = loadConfig({ ONAIR_RTMP_PORT: '0', ONAIR_SRT_PORT_MIN: '0' });
    assert.equal(off.rtmpPort, 0);
    assert.equal(off.srtPortRange, undefined);
    const tls = loadConfig({ ONAIR_RTMPS_CERT: '/c.pem', ONAIR_RTMPS_KEY: '/k.pem' });
    assert.deepEqual(tls.rtmps, { port: 1936, certFile: '/c.pem', keyFile: '/k.pem' });
    assert.throws(() => loadConfig({ ONAIR_RTMPS_CERT: '/c.pem' }), /set together/);
    assert.throws(() => loadConfig({ ONAIR_SRT_PORT_MIN: '9100', ONAIR_SRT_PORT_MAX: '9000' }), /at least/);
  });
});
