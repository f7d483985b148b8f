/**
 * npm run bench — measures the live path on this machine, end to end, with real
 * components: the onair server process, a werift WHIP publisher sending FFmpeg's
 * 720p test pattern, FFmpeg encoding/packaging. Bounded: two short sessions.
 *
 *   - WHIP 201 → first segment listed in the live media playlist (passthrough, encode)
 *   - encoder speed of the default 720p ladder while a publisher runs on the same machine
 *   - real-time playback (bench/whep.ts): WHEP POST → first frame, glass-to-glass delay,
 *     forwarding cost per viewer and viewers per core
 *   - RTMP ingest (bench/rtmp.ts): RTMP connect → first segment (encode, passthrough), CPU of
 *     a passthrough RTMP channel against an encode channel
 *   - redundant ingest (bench/failover.ts): on-air input's last packet → the other input's
 *     first frame in the output, total input loss → first slate frame
 *
 *   - low latency and the origin (bench/low-latency.ts): live delay LL on and off (server side,
 *     hls.js and dash.js in Chromium), origin requests/s against nginx and through the nginx edge
 *
 *   BENCH_PARTS=live,whep,failover,rtmp,ll,origin (default all)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishWhipProcess as publishWhip } from '../test/support/publisher-process.ts';
import { latencyBench, originBench } from './low-latency.ts';
import { failoverBench } from './failover.ts';
import { rtmpBench } from './rtmp.ts';
import { probeMediasoup } from '../server/sfu/engine-select.ts';
import { whepBench } from './whep.ts';
import { median } from './median.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'onair-bench-admin-token-000000';
const SEGMENT_SECONDS = 2;
const ENCODE_SECONDS = Number(process.env.BENCH_ENCODE_SECONDS ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ONAIR_DATA_DIR: dataDir,
      ONAIR_ADMIN_TOKEN: TOKEN,
      ONAIR_UI: '0',
      ONAIR_LOOPBACK_ONLY_ICE: '1',
      ONAIR_RTMP_PORT: '0',
      ONAIR_SRT_PORT_MIN: '0',
      ONAIR_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('server did not start'));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
  child.stdout.resume();
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function api<T>(base: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface ChannelJson {
  id: string;
  streamKey: string;
  urls: { whip: string };
}

async function firstSegmentLatency(
  base: string,
  mode: 'encode' | 'passthrough',
): Promise<{ ms: number; ch: ChannelJson; stop: () => Promise<void> }> {
  const ch = await api<ChannelJson>(base, 'POST', '/api/v1/channels', {
    name: `bench ${mode}`,
    mode,
    segmentSeconds: SEGMENT_SECONDS,
  });
  await api(base, 'POST', `/api/v1/channels/${ch.id}/start`);
  const pub = await publishWhip({
    url: ch.urls.whip,
    token: ch.streamKey,
    width: 1280,
    height: 720,
    fps: 20,
    gop: 40,
  });
  if (pub.status !== 201) throw new Error(`WHIP ${pub.status}: ${pub.answer}`);
  const track = mode === 'encode' ? '720p' : 'source';
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/live/${ch.id}/${track}.m3u8`);
    const text = res.ok ? await res.text() : '';
    if (text.includes('.m4s')) {
      if (process.env.BENCH_DEBUG) {
        const lines = text
          .split('\n')
          .filter((l) => l.startsWith('#EXTINF') || l.startsWith('#EXT-X-PROGRAM'));
        process.stdout.write(`${lines.join(' ')}\n`);
      }
      return { ms: Date.now() - pub.postedAt, ch, stop: () => pub.stop() };
    }
    await sleep(50);
  }
  await pub.stop();
  throw new Error('no segment within 30 s');
}

/** CPU seconds (user + system) used so far by the encoder FFmpeg of a channel. */
function encoderCpuSeconds(channelId: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(channelId) || !cmd.includes('input.sdp')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
    } catch {
      continue;
    }
  }
  return undefined;
}

const PARTS = (process.env.BENCH_PARTS ?? 'live,whep,failover,rtmp,ll,origin').split(',');
const results: Record<string, unknown> = {
  machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  segmentSeconds: SEGMENT_SECONDS,
};
if (PARTS.includes('live')) await liveBench();
if (PARTS.includes('failover')) results.failover = await failoverBench();
if (PARTS.includes('rtmp')) results.rtmp = await rtmpBench((line) => process.stdout.write(`${line}\n`));
if (PARTS.includes('whep')) {
  results.whep = await whepBench();
  // Side by side: the same publisher and viewers through mediasoup, where its worker is found.
  const probe = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
  if (probe.workerBin && probe.packageDir) results.whepMediasoup = await whepBench(undefined, 'mediasoup');
  else process.stdout.write(`mediasoup: skipped (${probe.problem ?? 'no worker'})\n`);
}
if (PARTS.includes('ll') || PARTS.includes('origin')) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'onair-bench-'));
  const server = await startServer(dataDir);
  const call = <T>(method: string, p: string, body?: unknown) => api<T>(server.url, method, p, body);
  try {
    if (PARTS.includes('ll')) results.liveDelay = await latencyBench({ url: server.url, call });
    if (PARTS.includes('origin')) results.origin = await originBench({ url: server.url, call });
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
// werift keeps UDP sockets of closed peer connections referenced: exit explicitly.
process.exit(0);

async function liveBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'onair-bench-'));
  const server = await startServer(dataDir);
  try {
    for (const mode of (process.env.BENCH_MODES ?? 'passthrough,encode').split(',') as (
      'passthrough' | 'encode'
    )[]) {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await firstSegmentLatency(server.url, mode);
        samples.push(r.ms);
        await r.stop();
        await api(server.url, 'POST', `/api/v1/channels/${r.ch.id}/stop`);
        await sleep(3000); // measure from a quiet machine, not one still tearing the last session down
      }
      const budget = SEGMENT_SECONDS * 1000 + (mode === 'passthrough' ? 1500 : 2500);
      results[`whipToFirstSegmentMs.${mode}`] = { samples, median: median(samples), budget };
      process.stdout.write(
        `WHIP 201 → first segment (${mode}): median ${median(samples)} ms [${samples.join(', ')}], budget ${budget} ms\n`,
      );
    }

    // Encoder speed: the default 720p ladder for ENCODE_SECONDS with the publisher on this machine.
    const r = await firstSegmentLatency(server.url, 'encode');
    const speeds: number[] = [];
    const end = Date.now() + ENCODE_SECONDS * 1000;
    await sleep(5000); // skip the start-up burst
    const cpu0 = encoderCpuSeconds(r.ch.id);
    const wall0 = Date.now();
    while (Date.now() < end) {
      const s = await api<{ encoder: { speed: number | null } }>(
        server.url,
        'GET',
        `/api/v1/channels/${r.ch.id}/stats`,
      );
      if (s.encoder.speed !== null) speeds.push(s.encoder.speed);
      await sleep(1000);
    }
    const cpu1 = encoderCpuSeconds(r.ch.id);
    const cores =
      cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / ((Date.now() - wall0) / 1000) : undefined;
    await r.stop();
    await api(server.url, 'POST', `/api/v1/channels/${r.ch.id}/stop`);
    const last = speeds.at(-1) ?? 0;
    results.encoderSpeed720p = {
      final: last,
      min: Math.min(...speeds),
      samples: speeds.length,
      encoderCores: cores,
    };
    process.stdout.write(
      `720p ladder encoder speed: ${last.toFixed(2)}x at the end (min ${Math.min(...speeds).toFixed(2)}x over ${speeds.length} s); ` +
        `FFmpeg used ${cores?.toFixed(2) ?? '?'} of ${os.cpus().length} cores\n`,
    );
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
