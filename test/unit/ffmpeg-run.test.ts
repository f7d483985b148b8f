/**
 * Real FFmpeg, no WebRTC: a second FFmpeg plays the browser (H.264 constrained baseline with in-band
 * SPS/PPS, packetization-mode 1, and Opus over RTP) into the argv/SDP built by server/transcode.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LADDERS } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import { parseInitSegment, parseMediaSegment, splitParts } from '../../server/packager/mp4.ts';
import { buildFfmpegArgs } from '../../server/transcode/ffmpeg-args.ts';
import { buildInputSdp } from '../../server/transcode/input-sdp.ts';
import { ProgressParser, type ProgressSnapshot } from '../../server/transcode/progress.ts';
import { allocateUdpPorts, waitForUdpPort } from '../../server/transcode/udp-port.ts';
import { liveLavfi } from '../helpers/lavfi.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';
const VIDEO_PT = 102;
const AUDIO_PT = 111;
const SEND_SECONDS = 5;
const INPUT_TIMEOUT_SECONDS = 1;

const children = new Set<ChildProcess>();
const dirs: string[] = [];

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(
      () => reject(new Error(`process ${String(child.pid)} still running after ${String(timeoutMs)} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

interface ProbeStream {
  codec_name?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  profile?: string;
}

async function probe(trackDir: string, segment: string): Promise<ProbeStream> {
  const joined = join(trackDir, `probe-${segment}.mp4`);
  await writeFile(
    joined,
    Buffer.concat([await readFile(join(trackDir, 'init.mp4')), await readFile(join(trackDir, segment))]),
  );
  const { stdout } = await promisify(execFile)(FFPROBE, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,profile,width,height,sample_rate,channels',
    '-of',
    'json',
    joined,
  ]);
  const parsed = JSON.parse(stdout) as { streams: ProbeStream[] };
  assert.equal(parsed.streams.length, 1, `one stream in ${joined}`);
  return parsed.streams[0] ?? {};
}

async function segmentsOf(trackDir: string): Promise<string[]> {
  return (await readdir(trackDir)).filter((f) => /^seg_\d{5}\.m4s$/.test(f)).sort();
}

interface RunResult {
  runDir: string;
  trackIds: string[];
  exitCode: number | null;
  exitAfterSenderMs: number;
  snapshots: ProgressSnapshot[];
  stderr: string;
}

async function run(mode: ChannelMode): Promise<RunResult> {
  const runDir = await mkdtemp(join(tmpdir(), 'onair-ffmpeg-run-'));
  dirs.push(runDir);
  const [videoPort, audioPort] = await allocateUdpPorts(2);
  assert.ok(videoPort !== undefined && audioPort !== undefined);
  const sdpPath = join(runDir, 'input.sdp');
  await writeFile(
    sdpPath,
    buildInputSdp({
      address: '127.0.0.1',
      video: {
        codec: 'H264',
        payloadType: VIDEO_PT,
        clockRate: 90000,
        fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        port: videoPort,
      },
      audio: { codec: 'opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2, port: audioPort },
    }),
  );
  const { args, tracks } = buildFfmpegArgs({
    ladder: LADDERS['720p'],
    mode,
    segmentSeconds: 2,
    sdpPath,
    runDir,
    inputTimeoutSeconds: INPUT_TIMEOUT_SECONDS,
    hasAudio: true,
  });

  for (const t of tracks) await mkdir(join(runDir, t.id), { recursive: true });
  const receiver = track(spawn(FFMPEG, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const parser = new ProgressParser();
  const snapshots: ProgressSnapshot[] = [];
  let stderr = '';
  receiver.stdout?.setEncoding('utf8').on('data', (chunk: string) => snapshots.push(...parser.push(chunk)));
  receiver.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  await waitForUdpPort(videoPort, 5000);
  await waitForUdpPort(audioPort, 5000);
  // RTCP goes to port + 1, which FFmpeg binds too.
  await waitForUdpPort(videoPort + 1, 1000);

  // The "browser": constrained baseline H.264, SPS/PPS in-band, keyframe every 2 s (the server's PLI), Opus.
  const sender = track(
    spawn(
      FFMPEG,
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        ...liveLavfi('testsrc2=size=1280x720:rate=20', SEND_SECONDS),
        ...liveLavfi('sine=f=440:sample_rate=48000', SEND_SECONDS),
        '-map',
        '0:v',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-profile:v',
        'baseline',
        '-pix_fmt',
        'yuv420p',
        '-g',
        '40',
        '-b:v',
        '2000k',
        '-x264-params',
        'repeat-headers=1',
        '-payload_type',
        String(VIDEO_PT),
        '-f',
        'rtp',
        `rtp://127.0.0.1:${String(videoPort)}?pkt_size=1200`,
        '-map',
        '1:a',
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
        '-payload_type',
        String(AUDIO_PT),
        '-f',
        'rtp',
        `rtp://127.0.0.1:${String(audioPort)}?pkt_size=1200`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let senderErr = '';
  sender.stderr?.setEncoding('utf8').on('data', (chunk: string) => (senderErr += chunk));
  assert.equal(await exited(sender, (SEND_SECONDS + 10) * 1000), 0, `sender failed: ${senderErr}`);
  const senderDone = Date.now();
  const exitCode = await exited(receiver, 30_000);
  return {
    runDir,
    trackIds: tracks.map((t) => t.id),
    exitCode,
    exitAfterSenderMs: Date.now() - senderDone,
    snapshots,
    stderr,
  };
}

async function assertTrackDirs(r: RunResult, expected: string[]): Promise<void> {
  assert.deepEqual((await readdir(r.runDir)).sort(), [...expected, 'input.sdp'].sort());
  for (const id of expected) {
    const files = await readdir(join(r.runDir, id));
    assert.ok(files.includes('init.mp4'), `${id}/init.mp4 in ${files.join(',')}`);
    assert.ok(!files.some((f) => f.endsWith('.tmp')), `no temp files left in ${id}`);
    assert.ok(
      (await segmentsOf(join(r.runDir, id))).length >= 2,
      `${id} has ≥ 2 segments: ${files.join(',')}`,
    );
    assert.ok(files.includes('seg_00001.m4s'), `${id}: numbers start at 1`);
  }
}

/** Seconds of each complete segment of a track, and the parts (moof boxes) of each. */
async function segmentTimes(trackDir: string): Promise<{ seconds: number[]; parts: number[] }> {
  const init = parseInitSegment(await readFile(join(trackDir, 'init.mp4')));
  const seconds: number[] = [];
  const parts: number[] = [];
  for (const name of await segmentsOf(trackDir)) {
    const buf = await readFile(join(trackDir, name));
    seconds.push(parseMediaSegment(buf, init).duration / init.timescale);
    parts.push(splitParts(buf).length);
  }
  return { seconds, parts };
}

describe('FFmpeg RTP → CMAF (real ffmpeg)', { timeout: 60_000 }, () => {
  test('encode, 720p ladder, 2 s segments', async (t) => {
    const r = await run('encode');
    t.diagnostic(`receiver exited ${String(r.exitAfterSenderMs)} ms after the sender`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.trackIds, ['720p', '480p', '360p', 'audio']);
    await assertTrackDirs(r, r.trackIds);
    const { seconds: durations, parts } = await segmentTimes(join(r.runDir, '480p'));
    assert.ok(
      durations.slice(0, -1).every((d) => d === 2),
      durations.join(','),
    );
    // 0.5 s parts: four fragments in every full segment
    assert.ok(
      parts.slice(0, -1).every((n) => n === 4),
      parts.join(','),
    );

    const sizes: Record<string, [number, number]> = {
      '720p': [1280, 720],
      '480p': [854, 480],
      '360p': [640, 360],
    };
    for (const [id, [w, h]] of Object.entries(sizes)) {
      const s = await probe(join(r.runDir, id), 'seg_00001.m4s');
      assert.equal(s.codec_name, 'h264');
      assert.equal(s.profile, 'High');
      assert.deepEqual([s.width, s.height], [w, h], id);
    }
    const a = await probe(join(r.runDir, 'audio'), 'seg_00001.m4s');
    assert.deepEqual([a.codec_name, a.sample_rate, a.channels], ['aac', '48000', 2]);

    // exits by itself: (streams + 1) × input timeout after the last packet, plus any encoding backlog
    assert.ok(r.exitAfterSenderMs < 10_000, `exited ${String(r.exitAfterSenderMs)} ms after the sender`);
    const last = r.snapshots.at(-1);
    assert.equal(last?.progress, 'end');
    assert.ok(
      (last?.frame ?? 0) > 0 && (last?.outTimeMs ?? 0) > (SEND_SECONDS - 1) * 1000,
      JSON.stringify(last),
    );
  });

  test('passthrough: H.264 copied, SPS/PPS only in-band', async (t) => {
    const r = await run('passthrough');
    t.diagnostic(`receiver exited ${String(r.exitAfterSenderMs)} ms after the sender`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.trackIds, ['source', 'audio']);
    await assertTrackDirs(r, r.trackIds);
    const v = await probe(join(r.runDir, 'source'), 'seg_00001.m4s');
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.profile, 'Constrained Baseline');
    assert.deepEqual([v.width, v.height], [1280, 720]);
    // cut at every 2 s keyframe (no doubled segments)
    const { seconds: durations } = await segmentTimes(join(r.runDir, 'source'));
    assert.ok(
      durations.length >= 2 && durations.slice(0, -1).every((d) => d > 1.5 && d < 2.5),
      durations.join(','),
    );
    const a = await probe(join(r.runDir, 'audio'), 'seg_00001.m4s');
    assert.deepEqual([a.codec_name, a.sample_rate, a.channels], ['aac', '48000', 2]);
    assert.ok(r.exitAfterSenderMs < 10_000, `exited ${String(r.exitAfterSenderMs)} ms after the sender`);
    assert.equal(r.snapshots.at(-1)?.progress, 'end');
  });
});
