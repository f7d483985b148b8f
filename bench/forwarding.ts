/**
 * The SFU's per-packet forwarding cost, in isolation: an in-process werift
 * router fed by a synthetic source (H.264-sized RTP at a fixed rate, no
 * publisher, no FFmpeg), WHEP viewers in child processes (werift clients),
 * the process's own CPU time measured while it forwards. Gives microseconds
 * per packet per viewer, hence CPU per viewer at a given bitrate.
 *
 *   node bench/forwarding.ts [viewers] [packetsPerSecond] [seconds]
 */
import { createServer, type Server } from 'node:http';
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
import type { ViewerSession } from '../server/sfu/engine.ts';
import { WeriftEngine } from '../server/sfu/werift/werift-engine.ts';
import { watchWhepProcess, type ViewerGroup } from '../test/support/viewer-process.ts';

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

  /** One RTP packet of `size` bytes; video packets start an IDR when `keyframe`. */
  send(kind: 'video' | 'audio', ts: number, size: number, keyframe = false, marker = false): void {
    const p = Buffer.alloc(size, 0x55);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | (kind === 'video' ? 96 : 111);
    p.writeUInt16BE(this.#seq[kind]++ & 0xffff, 2);
    p.writeUInt32BE(ts >>> 0, 4);
    p.writeUInt32BE(kind === 'video' ? 1111 : 2222, 8);
    p[12] = kind === 'video' ? (keyframe ? 0x65 : 0x41) : 0xfc;
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
  viewers: number;
  packetsPerSecond: number;
  /** The process's CPU time per packet sent to one viewer. */
  microsPerPacketPerViewer: number;
  /** Share of one core the process used. */
  cores: number;
  /** Share of sent packets the viewers received. */
  received: number;
}

/** Forwards `pps` packets a second (1200-byte video, 20 % of them 100-byte audio) to `viewers` viewers. */
export async function measureForwarding(
  viewers: number,
  pps: number,
  seconds: number,
): Promise<ForwardingResult> {
  const log = createLogger('silent');
  const engine = new WeriftEngine({
    log,
    iceServers: [],
    publicIp: undefined,
    portRange: undefined,
    loopbackOnly: true,
  });
  const router = engine.createRouter('bench');
  const source = new SyntheticSource();
  const sessions = new Map<string, ViewerSession>();
  const mount = whepMount(
    {
      getChannel: (id) => (id === 'bench' ? { id, state: 'running', preview: [] } : undefined),
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
  const perGroup = Math.min(10, viewers);
  try {
    for (let left = viewers; left > 0; left -= perGroup)
      groups.push(await watchWhepProcess({ url, count: Math.min(perGroup, left) }));
    await Promise.all(groups.map((g) => g.connected));
    // Keyframes open the viewers' video, then steady state.
    let ts = 0;
    const tick = 10; // ms
    const perTick = Math.max(1, Math.round((pps * tick) / 1000));
    const run = async (ms: number) => {
      const end = Date.now() + ms;
      let n = 0;
      while (Date.now() < end) {
        for (let i = 0; i < perTick; i++, n++) {
          if (n % 5 === 4) source.send('audio', ts * 48, 100);
          else source.send('video', ts * 90, 1200, n % 500 === 0, i === perTick - 1);
        }
        ts += tick;
        await new Promise((r) => setTimeout(r, tick));
      }
    };
    await run(1000);
    const before = (await Promise.all(groups.map((g) => g.stats()))).flat();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const sentBefore = [...sessions.values()].reduce((a, s) => a + s.stats().packetsSent, 0);
    await run(seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    const sent = [...sessions.values()].reduce((a, s) => a + s.stats().packetsSent, 0) - sentBefore;
    await new Promise((r) => setTimeout(r, 300));
    const after = (await Promise.all(groups.map((g) => g.stats()))).flat();
    const got = after.reduce((a, r, i) => {
      const b = before[i]!;
      return (
        a +
        r.counters.video.packets +
        r.counters.audio.packets -
        b.counters.video.packets -
        b.counters.audio.packets
      );
    }, 0);
    const micros = (cpu.user + cpu.system) / Math.max(1, sent);
    return {
      viewers,
      packetsPerSecond: pps,
      microsPerPacketPerViewer: Math.round(micros * 10) / 10,
      cores: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 100) / 100,
      received: Math.round((got / Math.max(1, sent)) * 1000) / 1000,
    };
  } finally {
    for (const g of groups) await g.stop().catch(() => undefined);
    router.close();
    await engine.close();
    server.close();
  }
}

if (import.meta.main) {
  const [viewers = 10, pps = 250, seconds = 10] = process.argv.slice(2).map(Number);
  const r = await measureForwarding(viewers, pps, seconds);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
