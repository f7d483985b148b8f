/**
 * What a channel costs the machine (run by bench/run.ts, parts `overhead` and `rss`):
 *
 *   - overhead (about 75 s): CPU of onair's whole path — the server process and every process it
 *     started (the encoder FFmpeg, thumbnails) — for one encode channel on the `720p` ladder fed by the
 *     bench publisher, over MEASURE_SECONDS of steady state, divided by the CPU of ONE bare FFmpeg
 *     encoding the same ladder with the same options (buildFfmpegArgs, mode `encode`, its RTP input
 *     replaced by a file read with `-re`) from a recording of the same media: the publisher's own
 *     FFmpeg options (test pattern 1280x720 20 fps, H.264 baseline 2 Mbit/s, a keyframe every 2 s,
 *     Opus), written to a file instead of sent as RTP. Both decode the same kind of stream at real
 *     time and write the same CMAF outputs; the difference is what onair adds: WebRTC receive
 *     (ICE, DTLS, SRTP), the SFU, plain RTP to FFmpeg, the RTP demuxer, indexing, thumbnails. The
 *     publisher's processes are not counted (they are not the server's descendants). Reference: bare
 *     FFmpeg = 1.00; goal ≤ 1.10.
 *   - rss (about two minutes): resident memory (VmRSS) of the server process alone at idle, with 1
 *     and 3 live passthrough channels, and after each of 10 publish/unpublish cycles on one channel
 *     (the channel stays started; each cycle lists two new segments before the publisher leaves).
 *     Sampled after SETTLE_MS. Goal: after cycle 10 within 10 % of after cycle 1.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LADDERS } from '../lib/ladders.ts';
import { buildFfmpegArgs } from '../server/transcode/ffmpeg-args.ts';
import { publisherMediaArgs } from '../test/helpers/whip-publisher.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import type { ChannelLiveStats } from '../lib/stats.ts';
import {
  REQUEST_TIMEOUT_MS,
  call,
  cpuSeconds,
  publish,
  PUBLISHER,
  rssKiB,
  sleep,
  startBenchServer,
  startChannel,
  treeCpuSeconds,
  waitForSegment,
  type ChannelJson,
  type TestServer,
} from './server.ts';

const WARMUP_SECONDS = 5;
const MEASURE_SECONDS = Number(process.env.BENCH_OVERHEAD_SECONDS ?? 20);
/** The recording outlasts the bare run's warm-up and measurement. */
const RECORD_SECONDS = WARMUP_SECONDS + MEASURE_SECONDS + 5;
export const OVERHEAD_GOAL = 1.1;
const SETTLE_MS = 3000;
const CYCLES = 10;
export const RSS_GROWTH_GOAL = 0.1;

const round = (n: number, d = 2): number => Number(n.toFixed(d));
const debug = (line: string) => {
  if (process.env.BENCH_DEBUG) process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
};

// ── encoding overhead ────────────────────────────────────────────────────

/** Options of buildFfmpegArgs' input that only mean something for RTP described by an SDP. */
const RTP_INPUT_OPTIONS = new Set([
  '-protocol_whitelist',
  '-localaddr',
  '-listen_timeout',
  '-buffer_size',
  '-reorder_queue_size',
  '-max_delay',
]);

/** The server's FFmpeg argv with its SDP input replaced by `file`, read at its native rate. */
function withFileInput(args: readonly string[], sdpPath: string, file: string): string[] {
  const i = args.findIndex((a, k) => a === '-i' && args[k + 1] === sdpPath);
  if (i < 0) throw new Error('no SDP input in the FFmpeg argv');
  const before: string[] = [];
  for (let k = 0; k < i; k++) {
    if (RTP_INPUT_OPTIONS.has(args[k]!))
      k++; // and its value
    else before.push(args[k]!);
  }
  return [...before, '-re', '-i', file, ...args.slice(i + 2)];
}

/** Runs FFmpeg to its end; rejects with its stderr on a non-zero exit. */
function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

/** The publisher's media, as its FFmpeg encodes it, into a file. */
async function recordPublisherMedia(file: string): Promise<void> {
  const media = publisherMediaArgs({ ...PUBLISHER, codec: 'H264' });
  await ffmpeg([
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...media.inputs,
    '-map',
    '0:v',
    ...media.video,
    '-map',
    '1:a',
    ...media.audio,
    '-t',
    String(RECORD_SECONDS),
    file,
  ]);
}

/** Cores used by one bare FFmpeg encoding the ladder from `input` at real time, and its last speed. */
async function bareFfmpegCores(
  input: string,
  runDir: string,
  segmentSeconds: number,
): Promise<{ cores: number; speed: number | undefined }> {
  const sdpPath = path.join(runDir, 'input.sdp'); // a placeholder: replaced by the file
  const built = buildFfmpegArgs({
    ladder: LADDERS['720p'],
    mode: 'encode',
    segmentSeconds,
    sdpPath,
    runDir,
    hasAudio: true,
  });
  for (const t of built.tracks) mkdirSync(path.join(runDir, t.id), { recursive: true });
  const child = spawn('ffmpeg', withFileInput(built.args, sdpPath, input), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let speed: number | undefined;
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    const all = [...c.matchAll(/^speed=\s*([\d.]+)x/gm)];
    if (all.length > 0) speed = Number(all.at(-1)![1]);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  try {
    await sleep(WARMUP_SECONDS * 1000);
    if (child.exitCode !== null)
      throw new Error(`bare ffmpeg exited ${child.exitCode}: ${stderr.slice(-2000)}`);
    const c0 = cpuSeconds(child.pid!);
    const w0 = Date.now();
    await sleep(MEASURE_SECONDS * 1000);
    const c1 = cpuSeconds(child.pid!);
    if (child.exitCode !== null) throw new Error(`bare ffmpeg ended early: ${stderr.slice(-2000)}`);
    return { cores: (c1 - c0) / ((Date.now() - w0) / 1000), speed };
  } finally {
    kill();
    await exited;
    process.off('exit', kill);
  }
}

/** Cores used by the server and its descendants for one encode channel fed by the publisher. */
async function onairCores(segmentSeconds: number): Promise<{
  cores: number;
  serverCores: number;
  childCores: number;
  speed: number | null;
}> {
  const s = await startBenchServer();
  let pub: WhipPublisher | undefined;
  try {
    const ch = await startChannel(s, {
      name: 'bench overhead',
      mode: 'encode',
      segmentSeconds,
      ladder: '720p',
    });
    pub = await publish(ch);
    await waitForSegment(s, ch.id, '720p');
    await sleep(WARMUP_SECONDS * 1000); // past the start-up burst
    const a = treeCpuSeconds(s.pid!);
    const w0 = Date.now();
    await sleep(MEASURE_SECONDS * 1000);
    const b = treeCpuSeconds(s.pid!);
    const wall = (Date.now() - w0) / 1000;
    const stats = await call<{ encoder: { speed: number | null } }>(
      s,
      'GET',
      `/api/v1/channels/${ch.id}/stats`,
    );
    await pub.stop();
    pub = undefined;
    await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);
    const serverCores = (b.self - a.self) / wall;
    const childCores = (b.children - a.children) / wall;
    return { cores: serverCores + childCores, serverCores, childCores, speed: stats.encoder.speed };
  } finally {
    await pub?.stop();
    await s.dispose();
  }
}

export async function overheadBench(opts: {
  segmentSeconds: number;
  print: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-bench-overhead-'));
  try {
    const input = path.join(dir, 'publisher.mkv');
    await recordPublisherMedia(input);
    // The bare run first, on a quiet machine; then onair, with the publisher beside it.
    const bare = await bareFfmpegCores(input, path.join(dir, 'bare'), opts.segmentSeconds);
    await sleep(SETTLE_MS);
    const onair = await onairCores(opts.segmentSeconds);
    const ratio = onair.cores / bare.cores;
    opts.print(
      `encoding overhead (720p ladder, ${MEASURE_SECONDS} s): onair ${round(onair.cores)} cores ` +
        `(server ${round(onair.serverCores)}, its FFmpeg and other children ${round(onair.childCores)}; encoder speed ${onair.speed ?? '?'}x) ` +
        `vs bare FFmpeg ${round(bare.cores)} cores (speed ${bare.speed ?? '?'}x): ratio ${round(ratio)}; reference bare FFmpeg 1.00, goal ≤ ${OVERHEAD_GOAL.toFixed(2)}`,
    );
    return {
      measureSeconds: MEASURE_SECONDS,
      onair: {
        cores: round(onair.cores, 3),
        serverCores: round(onair.serverCores, 3),
        childCores: round(onair.childCores, 3),
        encoderSpeed: onair.speed,
      },
      bare: { cores: round(bare.cores, 3), speed: bare.speed ?? null },
      ratio: round(ratio, 3),
      goal: OVERHEAD_GOAL,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── resident memory ──────────────────────────────────────────────────────

/** The newest segment number the track's live playlist lists (media sequence + segments − 1). */
async function lastListed(s: TestServer, channelId: string, track: string): Promise<number> {
  const res = await fetch(`${s.url}/live/${channelId}/${track}.m3u8`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) return -1;
  const seq = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)/m.exec(text)?.[1] ?? 0);
  return seq + (text.match(/^#EXTINF:/gm)?.length ?? 0) - 1;
}

/**
 * Publishes to a started channel and resolves once the publisher is on air (not the slate a channel
 * shows between publishers) and the playlist has listed two segments since: the first may still be
 * the last one of the input before.
 */
async function goLive(s: TestServer, ch: ChannelJson): Promise<WhipPublisher> {
  debug(`goLive ${ch.id}: publishing`);
  const pub = await publish(ch);
  try {
    const deadline = Date.now() + 30_000;
    const onAir = async () => {
      const st = await call<ChannelLiveStats>(s, 'GET', `/api/v1/channels/${ch.id}/stats`);
      return st.inputs ? st.inputs.active === 'primary' : st.live;
    };
    while (!(await onAir())) {
      if (Date.now() > deadline) throw new Error('the publisher did not go on air within 30 s');
      await sleep(100);
    }
    debug(`goLive ${ch.id}: on air`);
    const before = await lastListed(s, ch.id, 'source');
    while ((await lastListed(s, ch.id, 'source')) < before + 2) {
      if (Date.now() > deadline) throw new Error('no new segments within 30 s');
      await sleep(100);
    }
    return pub;
  } catch (err) {
    await pub.stop();
    throw err;
  }
}

async function settledRss(pid: number): Promise<number> {
  await sleep(SETTLE_MS);
  const kib = rssKiB(pid);
  debug(`rss ${kib} KiB`);
  return kib;
}

export async function rssBench(opts: { print: (line: string) => void }): Promise<Record<string, unknown>> {
  const mib = (kib: number) => round(kib / 1024, 1);
  const s = await startBenchServer();
  const pubs: WhipPublisher[] = [];
  try {
    const pid = s.pid!;
    const idle = await settledRss(pid);
    const channels: ChannelJson[] = [];
    for (let i = 0; i < 3; i++)
      channels.push(await startChannel(s, { name: `bench rss ${i}`, mode: 'passthrough' }));
    pubs.push(await goLive(s, channels[0]!));
    const one = await settledRss(pid);
    for (const ch of channels.slice(1)) pubs.push(await goLive(s, ch));
    const three = await settledRss(pid);
    debug('stopping the publishers');
    for (const p of pubs.splice(0)) await p.stop();
    for (const ch of channels.slice(1)) await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);

    const cycles: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const pub = await goLive(s, channels[0]!);
      await pub.stop();
      cycles.push(await settledRss(pid));
    }
    const first = cycles[0]!;
    const last = cycles.at(-1)!;
    const growth = (last - first) / first;
    opts.print(
      `server RSS: idle ${mib(idle)} MiB, 1 live channel ${mib(one)} MiB, 3 live channels ${mib(three)} MiB (passthrough)`,
    );
    opts.print(
      `server RSS over ${CYCLES} publish/unpublish cycles: after cycle 1 ${mib(first)} MiB, after cycle ${CYCLES} ${mib(last)} MiB ` +
        `(${growth >= 0 ? '+' : ''}${round(growth * 100, 1)} %) [${cycles.map(mib).join(', ')}]; goal within ${RSS_GROWTH_GOAL * 100} %`,
    );
    return {
      unit: 'KiB',
      idle,
      oneLive: one,
      threeLive: three,
      cycles,
      growthAfterCycles: round(growth, 3),
      goal: RSS_GROWTH_GOAL,
    };
  } finally {
    for (const p of pubs) await p.stop();
    await s.dispose();
  }
}
