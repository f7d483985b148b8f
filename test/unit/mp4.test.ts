import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseInitSegment, parseMediaSegment } from '../../server/packager/mp4.ts';
import type { InitInfo } from '../../server/packager/mp4.ts';
import { RunIndexer } from '../../server/packager/segment-indexer.ts';
import { Timeline } from '../../server/packager/timeline.ts';

const run = promisify(execFile);

let dir = '';

async function hls(args: string[], out: string): Promise<void> {
  await mkdir(join(dir, out));
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    ...args,
    '-f',
    'hls',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    join(dir, out, 'seg_%05d.m4s'),
    join(dir, out, 'index.m3u8'),
  ]);
}

async function segments(track: string): Promise<Buffer[]> {
  const names = (await readdir(join(dir, track))).filter((n) => n.endsWith('.m4s')).sort();
  return Promise.all(names.map((n) => readFile(join(dir, track, n))));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onair-mp4-'));
  // prettier-ignore
  await Promise.all([
    hls(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '6', '-c:v', 'libx264', '-profile:v', 'high',
      '-preset', 'veryfast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0'], 'v'),
    hls(['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000', '-t', '6', '-c:a', 'aac', '-ar', '48000', '-ac', '2'], 'a'),
  ]);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function checkContiguous(frags: ReturnType<typeof parseMediaSegment>[]): void {
  for (let i = 1; i < frags.length; i++) {
    const prev = frags[i - 1]!;
    const cur = frags[i]!;
    assert.ok(cur.baseMediaDecodeTime > prev.baseMediaDecodeTime, 'decode times strictly increase');
    assert.ok(
      Math.abs(prev.baseMediaDecodeTime + prev.duration - cur.baseMediaDecodeTime) <= 1,
      'segments are consecutive',
    );
  }
}

describe('mp4: video (H.264 High, 640x360@25)', () => {
  let init: InitInfo;

  before(async () => {
    init = parseInitSegment(await readFile(join(dir, 'v', 'init.mp4')));
  });

  it('parses the init segment consistently with ffprobe', async () => {
    assert.equal(init.kind, 'video');
    assert.match(init.codec, /^avc1\.64[0-9a-f]{4}$/);
    assert.equal(init.width, 640);
    assert.equal(init.height, 360);
    assert.ok(init.timescale > 0);
    // ffprobe needs a sample to report the level: probe init + first segment.
    const joined = join(dir, 'v-joined.mp4');
    await writeFile(
      join(dir, 'v-joined.mp4'),
      Buffer.concat([await readFile(join(dir, 'v', 'init.mp4')), (await segments('v'))[0]!]),
    );
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
      'stream=width,height,level,time_base', '-of', 'json', joined]); // prettier-ignore
    const stream = (
      JSON.parse(stdout) as {
        streams: Array<{ width: number; height: number; level: number; time_base: string }>;
      }
    ).streams[0]!;
    assert.equal(stream.width, init.width);
    assert.equal(stream.height, init.height);
    assert.equal(init.codec.slice(-2), stream.level.toString(16).padStart(2, '0'));
    assert.equal(stream.time_base, `1/${init.timescale}`);
  });

  it('parses media segments: consecutive, ~2 s, keyframe first', async () => {
    const frags = (await segments('v')).map((b) => parseMediaSegment(b, init));
    assert.equal(frags.length, 3);
    assert.equal(frags[0]!.baseMediaDecodeTime, 0);
    checkContiguous(frags);
    for (const f of frags) {
      assert.ok(Math.abs(f.duration / init.timescale - 2) < 0.05, `duration ${f.duration / init.timescale}`);
      assert.equal(f.sampleCount, 50);
      assert.equal(f.startsWithKeyframe, true);
    }
  });

  it('reports a non-sync first sample as not a keyframe', async () => {
    const buf = Buffer.from((await segments('v'))[0]!);
    const trun = buf.indexOf('trun', 0, 'latin1');
    assert.ok(trun > 0);
    const flags = buf.readUInt32BE(trun + 4) & 0xffffff;
    let pos = trun + 12;
    if (flags & 0x001) pos += 4;
    assert.ok(flags & 0x004, 'FFmpeg writes first_sample_flags');
    buf.writeUInt32BE(0x01010000, pos); // depends on others, non-sync
    assert.equal(parseMediaSegment(buf, init).startsWithKeyframe, false);
  });
});

describe('mp4: audio (AAC-LC 48 kHz stereo)', () => {
  it('parses init and media segments', async () => {
    const init = parseInitSegment(await readFile(join(dir, 'a', 'init.mp4')));
    assert.equal(init.kind, 'audio');
    assert.equal(init.codec, 'mp4a.40.2');
    assert.equal(init.sampleRate, 48000);
    assert.equal(init.channels, 2);
    assert.ok(init.timescale > 0);
    const frags = (await segments('a')).map((b) => parseMediaSegment(b, init));
    assert.ok(frags.length >= 3);
    checkContiguous(frags);
    assert.ok(Math.abs(frags[0]!.duration / init.timescale - 2) < 0.05);
    assert.ok(frags.every((f) => f.startsWithKeyframe));
  });
});

describe('mp4: invalid input', () => {
  it('throws on truncated init and media segments, at every cut', async () => {
    const init = await readFile(join(dir, 'v', 'init.mp4'));
    const seg = (await segments('v'))[0]!;
    for (let cut = 0; cut < init.length; cut += 7) {
      assert.throws(() => parseInitSegment(init.subarray(0, cut)), /invalid mp4|truncated|missing/);
    }
    for (const cut of [0, 4, 9, 100, 1000, seg.length - 1]) {
      assert.throws(() => parseMediaSegment(seg.subarray(0, cut)), /invalid mp4/);
    }
  });

  it('throws (does not hang) on zero- and tiny-size boxes', () => {
    const tiny = Buffer.alloc(16);
    tiny.writeUInt32BE(4, 0); // size smaller than its own header
    tiny.write('moof', 4, 'latin1');
    assert.throws(() => parseMediaSegment(tiny), /invalid mp4/);
    const zero = Buffer.alloc(8);
    zero.write('moov', 4, 'latin1'); // size 0 = to end of file: an empty moov
    assert.throws(() => parseInitSegment(zero), /invalid mp4/);
    assert.throws(() => parseMediaSegment(Buffer.from('garbage!garbage!')), /invalid mp4/);
  });
});

describe('RunIndexer over FFmpeg output', () => {
  it('indexes every listed segment in order, once, and measures undeclared bandwidth', async () => {
    const timeline = new Timeline({ now: () => 1_700_000_000_000 });
    timeline.beginRun('run1', 1_700_000_000_000);
    const seen: string[] = [];
    const errors: unknown[] = [];
    // The temp dir plays the run directory: tracks 'v' and 'a' are its subdirectories.
    const indexer = new RunIndexer({
      runDir: dir,
      runId: 'run1',
      timeline,
      tracks: [{ id: 'v', bandwidth: 800_000 }, { id: 'a' }, { id: 'missing' }],
      onSegment: (trackId, s) => seen.push(`${trackId}:${s.number}`),
      onError: (_trackId, err) => errors.push(err),
    });
    await indexer.flush();
    await indexer.flush(); // a second scan adds nothing
    indexer.close();
    indexer.close();
    assert.deepEqual(errors, []);
    assert.deepEqual(seen, ['v:0', 'v:1', 'v:2', 'a:0', 'a:1', 'a:2', 'a:3']);
    const [video, audio] = ['v', 'a'].map((id) => timeline.getRun('run1').tracks.get(id)!);
    assert.equal(video!.info.bandwidth, 800_000);
    assert.equal(video!.info.frameRate, 25);
    assert.equal(video!.initUri, 'run1/v/init.mp4');
    assert.equal(video!.segments[1]!.uri, 'run1/v/seg_00001.m4s');
    // AAC at FFmpeg's default 128 kb/s (plus container overhead) over the first 3 segments.
    assert.ok(
      audio!.info.bandwidth > 100_000 && audio!.info.bandwidth < 160_000,
      String(audio!.info.bandwidth),
    );
  });
});
