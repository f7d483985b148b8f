/**
 * The SFU's per-packet forwarding cost, in isolation: an in-process router
 * (werift, or mediasoup with SFU_ENGINE=mediasoup where a worker is found) fed
 * by a synthetic source (H.264-sized RTP at a fixed rate, no publisher, no
 * FFmpeg), WHEP viewers in child processes (werift clients), the CPU time of
 * this process — and of mediasoup's workers — measured while it forwards.
 * Gives microseconds per packet per viewer, hence CPU per viewer at a given
 * bitrate.
 *
 *   [SFU_ENGINE=mediasoup] node bench/forwarding.ts [viewers] [packetsPerSecond] [seconds]
 */
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { whepMount } from '../server/egress/whep-endpoint.ts';
import { createLogger } from '../server/log.ts';
import type {
  RtpListener,
  SourceEvents,
  SourceStats,
  SourceTrack,
  MediaSource,
} from '../server/media/source.ts';
import { TypedEmitter } from '../server/media/typed-emitter.ts';
import type { SfuEngine, ViewerSession } from '../server/sfu/engine.ts';
import { probeMediasoup } from '../server/sfu/engine-select.ts';
import { MediasoupEngine } from '../server/sfu/mediasoup/mediasoup-engine.ts';
import { createWeriftEngine, loopbackSettings, startMediasoupEngine } from '../server/sfu/start-engine.ts';
import { watchWhepProcess, type ViewerGroup } from '../test/helpers/viewer-process.ts';

/** A live source that sends what it is told to: H.264 (IDR every `gop` frames) and Opus. */
export class SyntheticSource implements MediaSource {
  readonly id = 'synthetic';
  readonly kind = 'webrtc' as const;
  readonly engine = 'synthetic';
  readonly state = 'live' as const;
  readonly liveSince = Date.now();
  readonly tracks: readonly SourceTrack[] = [
    {
      id: 'video',
      kind: 'video',
      codec: {
        kind: 'video',
        name: 'H264',
        payloadType: 96,
        clockRate: 90000,
        fmtp: 'packetization-mode=1;profile-level-id=42e01f',
      },
      ssrc: 1111,
    },
    {
      id: 'audio',
      kind: 'audio',
      codec: { kind: 'audio', name: 'OPUS', payloadType: 111, clockRate: 48000, channels: 2, fmtp: '' },
      ssrc: 2222,
    },
  ];
  readonly #listeners = new Map<string, Set<RtpListener>>();
  readonly #events = new TypedEmitter<SourceEvents>();
  #seq = { video: 0, audio: 0 };

  /**
   * One RTP packet of `size` bytes; video packets start an IDR when `keyframe`,
   * preceded by a small SPS packet, as encoders send them (mediasoup starts a
   * consumer's video at an SPS).
   */
  send(kind: 'video' | 'audio', ts: number, size: number, keyframe = false, marker = false): void {
    if (kind === 'video' && keyframe) this.#packet(kind, ts, 24, 0x67, false);
    this.#packet(kind, ts, size, kind === 'video' ? (keyframe ? 0x65 : 0x41) : 0xfc, marker);
  }

  #packet(kind: 'video' | 'audio', ts: number, size: number, firstByte: number, marker: boolean): void {
    const p = Buffer.alloc(size, 0x55);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | (kind === 'video' ? 96 : 111);
    p.writeUInt16BE(this.#seq[kind]++ & 0xffff, 2);
    p.writeUInt32BE(ts >>> 0, 4);
    p.writeUInt32BE(kind === 'video' ? 1111 : 2222, 8);
    p[12] = firstByte;
    for (const l of this.#listeners.get(kind) ?? []) l(p);
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    let set = this.#listeners.get(trackId);
    if (!set) this.#listeners.set(trackId, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
  requestKeyframe(): void {
    this.keyframeRequests++;
  }
  keyframeRequests = 0;
  stats(): SourceStats {
    return { tracks: [], width: undefined, height: undefined, fps: undefined };
  }
  on<E extends keyof SourceEvents>(e: E, l: (...a: SourceEvents[E]) => void): void {
    this.#events.on(e, l);
  }
  off<E extends keyof SourceEvents>(e: E, l: (...a: SourceEvents[E]) => void): void {
    this.#events.off(e, l);
  }
  close(): void {
    this.#listeners.clear();
  }
}

export interface ForwardingResult {
  engine: string;
  viewers: number;
  packetsPerSecond: number;
  /** Viewer sessions the server saw connected during the measurement. */
  connected: number;
  /** The process's CPU time per packet sent to one viewer. */
  microsPerPacketPerViewer: number;
  /** Share of one core the process used. */
  cores: number;
  /** Share of sent packets the viewers received (all viewers together). */
  received: number;
  /** The worst viewer's packet loss (sequence gaps over expected). */
  worstLoss: number;
  /** Event-loop delay, 99th percentile, ms: a forwarder that cannot keep up shows it here first. */
  loopDelayP99Ms: number;
  /**
   * Share of the intended source rate actually forwarded: the synthetic source shares the event
   * loop, so a saturated forwarder slows the source down instead of dropping (a real publisher's
   * packets would overflow the socket instead). Below ~0.97 the process has run out of CPU.
   */
  keptUp: number;
}

export interface ForwardingOptions {
  viewers: number;
  /** Packets a second from the source: 1200-byte video, every fifth a 100-byte audio packet. */
  pps: number;
  seconds: number;
  /** Viewers that count from the SRTP header without decrypting (see whep-viewer.ts). */
  light?: boolean;
  /** Viewers per child process. */
  perProcess?: number;
  /** The engine that forwards (default werift). */
  engine?: 'werift' | 'mediasoup';
}

/** The engine to measure; mediasoup with one worker (one core), where a worker is found. */
async function benchEngine(name: 'werift' | 'mediasoup'): Promise<SfuEngine> {
  const settings = loopbackSettings(createLogger('silent'));
  if (name === 'werift') return createWeriftEngine(settings);
  const probe = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
  if (!probe.workerBin) throw new Error(`no mediasoup worker: ${probe.problem ?? 'not found'}`);
  return startMediasoupEngine({ ...settings, workerBin: probe.workerBin, workers: 1, singlePort: undefined });
}

/** CPU time of the engine's own processes (mediasoup's workers), ms; 0 for werift. */
function engineCpuMs(engine: SfuEngine): Promise<number> {
  return engine instanceof MediasoupEngine ? engine.workersCpuMs() : Promise.resolve(0);
}

/** Forwards the synthetic source to `viewers` viewers for `seconds` and measures this process. */
export async function measureForwarding(o: ForwardingOptions): Promise<ForwardingResult> {
  const { viewers, pps, seconds } = o;
  const engine = await benchEngine(o.engine ?? 'werift');
  const router = engine.createRouter('bench');
  const source = new SyntheticSource();
  const sessions = new Map<string, ViewerSession>();
  const mount = whepMount(
    {
      getChannel: (id) => Promise.resolve(id === 'bench' ? { id, state: 'running', preview: [] } : undefined),
      watch: async (_id, offer, summary) => {
        const v = await router.createViewer({ offer, summary, source });
        sessions.set(v.id, v);
        return v;
      },
      findSession: (_id, sid) => sessions.get(sid),
    },
    { iceServers: [], rateLimitPerMinute: 100_000 },
  );
  const server: Server = createServer((req, res) => {
    void mount.handle(req, res, new URL(req.url ?? '/', 'http://x'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/whep/bench`;
  const groups: ViewerGroup[] = [];
  const perGroup = Math.min(o.perProcess ?? 10, viewers);
  let ts = 0;
  let n = 0;
  const tick = 10; // ms
  let owed = 0; // packets due but not yet sent: the rate comes out exact
  let pumping = true;
  // The source runs from the start (viewers join a live stream); a keyframe about every second.
  const pump = (async () => {
    let next = performance.now();
    while (pumping) {
      owed += (pps * tick) / 1000;
      const perTick = Math.floor(owed);
      owed -= perTick;
      for (let i = 0; i < perTick; i++, n++) {
        if (n % 5 === 4) source.send('audio', ts * 48, 100);
        else source.send('video', ts * 90, 1200, n % Math.round(pps) === 0, i === perTick - 1);
      }
      ts += tick;
      next += tick;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  try {
    for (let left = viewers; left > 0; left -= perGroup)
      groups.push(await watchWhepProcess({ url, count: Math.min(perGroup, left), light: o.light ?? false }));
    await Promise.all(groups.map((g) => g.connected));
    await new Promise((r) => setTimeout(r, 2500)); // every viewer past its first keyframe
    const connected = [...sessions.values()].filter((s) => s.state === 'connected').length;
    const before = (await Promise.all(groups.map((g) => g.stats()))).flat();
    const sentBefore = [...sessions.values()].reduce((a, s) => a + s.stats().packetsSent, 0);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const workerCpu0 = await engineCpuMs(engine);
    const n0 = n;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const workerMicros = ((await engineCpuMs(engine)) - workerCpu0) * 1000;
    const wall = (performance.now() - t0) / 1000;
    const achievedPps = (n - n0) / wall;
    loop.disable();
    // mediasoup's per-viewer figures are read from the worker every 2 s: count what the source sent instead.
    const sent =
      engine.name === 'mediasoup'
        ? (n - n0) * connected
        : [...sessions.values()].reduce((a, s) => a + s.stats().packetsSent, 0) - sentBefore;
    await new Promise((r) => setTimeout(r, 300));
    const after = (await Promise.all(groups.map((g) => g.stats()))).flat();
    let got = 0;
    let worstLoss = 0;
    for (const [i, r] of after.entries()) {
      const b = before[i]!;
      const packets =
        r.counters.video.packets +
        r.counters.audio.packets -
        b.counters.video.packets -
        b.counters.audio.packets;
      const gaps =
        r.counters.video.gaps + r.counters.audio.gaps - b.counters.video.gaps - b.counters.audio.gaps;
      got += packets;
      worstLoss = Math.max(worstLoss, gaps / Math.max(1, packets + gaps));
    }
    const used = cpu.user + cpu.system + workerMicros;
    const micros = used / Math.max(1, sent);
    return {
      engine: engine.name,
      viewers,
      packetsPerSecond: pps,
      connected,
      microsPerPacketPerViewer: Math.round(micros * 10) / 10,
      cores: Math.round((used / 1e6 / wall) * 100) / 100,
      received: Math.round((got / Math.max(1, sent)) * 1000) / 1000,
      worstLoss: Math.round(worstLoss * 10000) / 10000,
      loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
      keptUp: Math.round((achievedPps / pps) * 1000) / 1000,
    };
  } finally {
    pumping = false;
    await pump;
    for (const g of groups) await g.stop().catch(() => undefined);
    router.close();
    await engine.close();
    server.close();
  }
}

if (import.meta.main) {
  const [viewers = 10, pps = 260, seconds = 10] = process.argv.slice(2).map(Number);
  const r = await measureForwarding({
    viewers,
    pps,
    seconds,
    light: process.env.LIGHT === '1',
    perProcess: Number(process.env.PER_PROCESS ?? 10),
    engine: process.env.SFU_ENGINE === 'mediasoup' ? 'mediasoup' : 'werift',
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
