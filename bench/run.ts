/**
 * npm run bench — measures the live path on this machine, end to end, with real
 * components: the onair server process, a werift WHIP publisher sending FFmpeg's
 * 720p test pattern, FFmpeg encoding/packaging. Bounded: two short sessions.
 *
 *   - start-up (bench/startup.ts): WHIP 201 → first fragment on disk, first part and first full
 *     segment listed in the live media playlist (passthrough, encode), with the werift publisher
 *     (keyframe every 2 s) and with Chromium's fake camera (answers the server's PLI)
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
 *   - resources (bench/resources.ts): CPU of onair's encode path against one bare FFmpeg encoding
 *     the same ladder from the same media; the server's RSS idle, with 1 and 3 live channels, and
 *     across publish/unpublish cycles
 *
 *   BENCH_PARTS=startup,live,overhead,rss,whep,failover,rtmp,ll,origin (default all)
 *   BENCH_STARTUP_PUBLISHERS=werift,chromium (default both), BENCH_MODES=passthrough,encode
 */
import os from 'node:os';
import { childrenOf } from '../test/helpers/procs.ts';
import { latencyBench, originBench } from './low-latency.ts';
import { failoverBench } from './failover.ts';
import { rtmpBench } from './rtmp.ts';
import { probeMediasoup } from '../server/sfu/engine-select.ts';
import { whepBench } from './whep.ts';
import { overheadBench, rssBench } from './resources.ts';
import { STARTUP_PUBLISHERS, startupBench, type StartupPublisherName } from './startup.ts';
import {
  call,
  cpuSeconds,
  publish,
  sleep,
  startBenchServer,
  startChannel,
  waitForSegment,
  type TestServer,
} from './server.ts';
import type { ChannelMode } from '../lib/schemas.ts';

const SEGMENT_SECONDS = 2;
const ENCODE_SECONDS = Number(process.env.BENCH_ENCODE_SECONDS ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const print = (line: string) => process.stdout.write(`${line}\n`);

/** CPU seconds (user + system) used so far by the encoder FFmpeg of a channel. */
function encoderCpuSeconds(s: TestServer, channelId: string): number | undefined {
  const encoder = childrenOf(s.pid!).find(
    (p) => p.cmdline.some((a) => a.includes(channelId)) && p.cmdline.some((a) => a.endsWith('input.sdp')),
  );
  return encoder ? cpuSeconds(encoder.pid) : undefined;
}

const PARTS = (process.env.BENCH_PARTS ?? 'startup,live,overhead,rss,whep,failover,rtmp,ll,origin').split(
  ',',
);
// Interrupted (Ctrl-C, a timeout): exit through the 'exit' handlers that kill the servers and publishers.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const durations: Record<string, number> = {};
const results: Record<string, unknown> = {
  machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  segmentSeconds: SEGMENT_SECONDS,
  partSeconds: durations,
};
/** Runs one part when BENCH_PARTS names it, and notes how long it took (wall seconds). */
async function part<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  if (!PARTS.includes(name)) return undefined;
  const t0 = Date.now();
  try {
    return await run();
  } finally {
    durations[name] = Math.round((Date.now() - t0) / 1000);
  }
}

// mediasoup beside werift where its worker is found: start-up, failover and WHEP.
const probe = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
const mediasoup = probe.workerBin !== undefined && probe.packageDir !== undefined;
if (!mediasoup) print(`mediasoup: skipped (${probe.problem ?? 'no worker'}); werift only`);

if (PARTS.includes('startup') || PARTS.includes('live')) {
  const modes = (process.env.BENCH_MODES ?? 'passthrough,encode').split(',') as ChannelMode[];
  const publishers = (process.env.BENCH_STARTUP_PUBLISHERS ?? STARTUP_PUBLISHERS.join(',')).split(
    ',',
  ) as StartupPublisherName[];
  for (const engine of mediasoup ? (['werift', 'mediasoup'] as const) : (['werift'] as const)) {
    const s = await startBenchServer(engine);
    try {
      if (engine !== 'werift') print(`start-up on ${engine}:`);
      const startup = await part('startup', () =>
        startupBench(s, { runs: RUNS, segmentSeconds: SEGMENT_SECONDS, modes, publishers, print }),
      );
      if (engine === 'werift') {
        results.startup = startup;
        results.encoderSpeed720p = await part('live', () => encoderSpeed(s));
      } else results.startupMediasoup = startup;
    } finally {
      await s.dispose();
    }
  }
}
results.encodingOverhead = await part('overhead', () =>
  overheadBench({ segmentSeconds: SEGMENT_SECONDS, print }),
);
results.serverRss = await part('rss', () => rssBench({ print }));
results.failover = await part('failover', () => failoverBench());
if (mediasoup) results.failoverMediasoup = await part('failover', () => failoverBench('mediasoup'));
results.rtmp = await part('rtmp', () => rtmpBench(print));
await part('whep', async () => {
  results.whep = await whepBench();
  // Side by side: the same publisher and viewers through mediasoup, where its worker is found.
  if (mediasoup) results.whepMediasoup = await whepBench(undefined, 'mediasoup');
});
if (PARTS.includes('ll') || PARTS.includes('origin')) {
  const s = await startBenchServer();
  const api = {
    url: s.url,
    call: <T>(method: string, p: string, body?: unknown) => call<T>(s, method, p, body),
  };
  try {
    results.liveDelay = await part('ll', () => latencyBench(api));
    results.origin = await part('origin', () => originBench(api));
  } finally {
    await s.dispose();
  }
}
print(JSON.stringify(results, null, 2));
// werift keeps UDP sockets of closed peer connections referenced: exit explicitly.
process.exit(0);

/** Encoder speed: the default 720p ladder for ENCODE_SECONDS with the publisher on this machine. */
async function encoderSpeed(s: TestServer): Promise<Record<string, unknown>> {
  const ch = await startChannel(s, {
    name: 'bench encoder speed',
    mode: 'encode',
    segmentSeconds: SEGMENT_SECONDS,
    ladder: '720p',
  });
  const pub = await publish(ch);
  try {
    await waitForSegment(s, ch.id, '720p');
    const speeds: number[] = [];
    const end = Date.now() + ENCODE_SECONDS * 1000;
    await sleep(5000); // skip the start-up burst
    const cpu0 = encoderCpuSeconds(s, ch.id);
    const wall0 = Date.now();
    while (Date.now() < end) {
      const st = await call<{ encoder: { speed: number | null } }>(
        s,
        'GET',
        `/api/v1/channels/${ch.id}/stats`,
      );
      if (st.encoder.speed !== null) speeds.push(st.encoder.speed);
      await sleep(1000);
    }
    const cpu1 = encoderCpuSeconds(s, ch.id);
    const cores =
      cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / ((Date.now() - wall0) / 1000) : undefined;
    const last = speeds.at(-1) ?? 0;
    print(
      `720p ladder encoder speed: ${last.toFixed(2)}x at the end (min ${Math.min(...speeds).toFixed(2)}x over ${speeds.length} s); ` +
        `FFmpeg used ${cores?.toFixed(2) ?? '?'} of ${os.cpus().length} cores`,
    );
    return { final: last, min: Math.min(...speeds), samples: speeds.length, encoderCores: cores };
  } finally {
    await pub.stop();
    await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);
  }
}
