/**
 * RTMP ingest figures (part of npm run bench): FFmpeg as the encoder, the way
 * OBS publishes (server URL + stream key, 720p30 H.264 + AAC, 2 s keyframes).
 *
 *   - RTMP connect → first segment listed in the live media playlist, and RTMP connect →
 *     watchable (the master playlist and the MPD both listed: what a viewer waits for), for an
 *     encode channel (720p ladder) and a passthrough channel
 *   - CPU of one running RTMP channel: the onair process plus its FFmpeg children
 *     (remuxer, encoder or packager), passthrough against encode; the encoder
 *     process (the publisher's FFmpeg) is not counted
 *
 * Bounded: BENCH_RTMP_RUNS sessions per mode (default 3) and one CPU window of
 * BENCH_RTMP_CPU_SECONDS (default 20) per mode.
 */
import { startServer, type TestServer } from '../test/helpers/server.ts';
import { pushRtmp, type Push } from '../test/helpers/ffmpeg-push.ts';
import { childrenOf, freeTcpPort } from '../test/helpers/procs.ts';
import { median } from './median.ts';
import { call, cpuSeconds, sleep } from './server.ts';

const RUNS = Number(process.env.BENCH_RTMP_RUNS ?? 3);
const CPU_SECONDS = Number(process.env.BENCH_RTMP_CPU_SECONDS ?? 20);
const SEGMENT_SECONDS = 2;

type Mode = 'encode' | 'passthrough';

interface ChannelJson {
  id: string;
  streamKey: string;
  urls: { rtmp: string | null };
}

export interface RtmpBenchResult {
  connectToFirstSegmentMs: Record<Mode, { samples: number[]; median: number }>;
  /** Connect → the master playlist and the MPD are both served: a viewer can start. */
  connectToMasterAndMpdMs: Record<Mode, { samples: number[]; median: number }>;
  /** Cores one running channel uses (onair process + its FFmpeg children), by part. */
  channelCores: Record<Mode, { total: number; onair: number; ffmpeg: number }>;
  /** Passthrough CPU as a fraction of encode CPU. */
  passthroughShareOfEncode: number;
}

/** Starts a channel and an RTMP push; resolves once the first segment is listed, and once it is watchable. */
async function firstSegment(
  s: TestServer,
  mode: Mode,
): Promise<{ ms: number; watchableMs: number; ch: ChannelJson; push: Push }> {
  const ch = await call<ChannelJson>(s, 'POST', '/api/v1/channels', {
    name: `bench rtmp ${mode}`,
    mode,
    segmentSeconds: SEGMENT_SECONDS,
  });
  await call(s, 'POST', `/api/v1/channels/${ch.id}/start`);
  const t0 = Date.now();
  const push = pushRtmp(`${ch.urls.rtmp!}/${ch.streamKey}`, { gopSeconds: SEGMENT_SECONDS });
  const track = mode === 'encode' ? '720p' : 'source';
  const deadline = t0 + 30_000;
  let ms: number | undefined;
  let master = false;
  let mpd = false;
  while (Date.now() < deadline) {
    if (ms === undefined) {
      const res = await fetch(`${s.url}/live/${ch.id}/${track}.m3u8`);
      if ((res.ok ? await res.text() : '').includes('.m4s')) ms = Date.now() - t0;
    }
    if (!master) {
      const res = await fetch(`${s.url}/live/${ch.id}/master.m3u8`);
      master = (res.ok ? await res.text() : '').includes('#EXT-X-STREAM-INF');
    }
    if (!mpd) mpd = (await fetch(`${s.url}/live/${ch.id}/manifest.mpd`)).ok;
    if (ms !== undefined && master && mpd) return { ms, watchableMs: Date.now() - t0, ch, push };
    await sleep(50);
  }
  await push.kill();
  throw new Error(`no watchable ${mode} stream within 30 s: ${push.stderr}`);
}

async function stopChannel(s: TestServer, ch: ChannelJson, push: Push): Promise<void> {
  await push.kill();
  await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);
  await call(s, 'DELETE', `/api/v1/channels/${ch.id}`);
}

export async function rtmpBench(log: (line: string) => void): Promise<RtmpBenchResult> {
  const rtmpPort = await freeTcpPort();
  const s = await startServer({ env: { ONAIR_RTMP_PORT: String(rtmpPort), ONAIR_SRT_PORT_MIN: '0' } });
  const serverPid = s.pid!;
  const result: Partial<RtmpBenchResult> = {
    connectToFirstSegmentMs: {} as never,
    connectToMasterAndMpdMs: {} as never,
    channelCores: {} as never,
  };
  try {
    for (const mode of ['passthrough', 'encode'] as const) {
      const samples: number[] = [];
      const watchable: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await firstSegment(s, mode);
        samples.push(r.ms);
        watchable.push(r.watchableMs);
        await stopChannel(s, r.ch, r.push);
        await sleep(2000); // a quiet machine for the next run
      }
      result.connectToFirstSegmentMs![mode] = { samples, median: median(samples) };
      log(`RTMP connect → first segment (${mode}): median ${median(samples)} ms [${samples.join(', ')}]`);
      result.connectToMasterAndMpdMs![mode] = { samples: watchable, median: median(watchable) };
      log(
        `RTMP connect → master playlist and MPD (${mode}): median ${median(watchable)} ms [${watchable.join(', ')}]`,
      );
    }
    for (const mode of ['passthrough', 'encode'] as const) {
      const r = await firstSegment(s, mode);
      await sleep(4000); // past the start-up burst
      const children = () => childrenOf(serverPid).filter((p) => p.comm === 'ffmpeg');
      const pids = children().map((p) => p.pid);
      const onair0 = cpuSeconds(serverPid);
      const ff0 = pids.map(cpuSeconds);
      const wall0 = Date.now();
      await sleep(CPU_SECONDS * 1000);
      const wall = (Date.now() - wall0) / 1000;
      const onair = (cpuSeconds(serverPid) - onair0) / wall;
      const ffmpeg = pids.reduce((n, pid, i) => n + (cpuSeconds(pid) - ff0[i]!), 0) / wall;
      const round = (x: number) => Math.round(x * 1000) / 1000;
      result.channelCores![mode] = {
        total: round(onair + ffmpeg),
        onair: round(onair),
        ffmpeg: round(ffmpeg),
      };
      log(
        `RTMP ${mode} channel CPU: ${(onair + ffmpeg).toFixed(2)} cores (onair ${onair.toFixed(2)}, ` +
          `${pids.length} FFmpeg ${ffmpeg.toFixed(2)}) over ${wall.toFixed(0)} s`,
      );
      await stopChannel(s, r.ch, r.push);
      await sleep(2000);
    }
    const cores = result.channelCores!;
    result.passthroughShareOfEncode =
      Math.round((cores.passthrough.total / cores.encode.total) * 1000) / 1000;
    log(`passthrough uses ${(result.passthroughShareOfEncode * 100).toFixed(0)} % of the CPU of encode`);
    return result as RtmpBenchResult;
  } finally {
    await s.dispose();
  }
}
