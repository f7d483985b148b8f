/**
 * The link to FFmpeg on mediasoup: a PlainTransport per track (comedia off:
 * onair knows FFmpeg's ports; no RTCP mux: FFmpeg 5.1 reads RTCP on port + 1,
 * see transcode/input-sdp.ts) with a Consumer of the feed that carries the
 * source on the payload types of FFmpeg's SDP. Keyframes: one when it starts,
 * again every 350 ms until one passes (as on werift: keyframe-gate.ts
 * KeyframeWait), then every `keyframeIntervalMs`, asked of the consumer (→ the
 * feed's producer → the source's gate). Survives a worker's death: the router
 * re-attaches it on another worker, and FFmpeg keeps its ports.
 */
import { createSocket } from 'node:dgram';
import type { Logger } from '../../log.ts';
import type { MediaSource } from '../../media/source.ts';
import type { PlainRtpOptions, PlainRtpTransport } from '../engine.ts';
import { untilKeyframe } from '../keyframe-gate.ts';
import type { Feed } from './feed.ts';
import type { Consumer, PlainTransport } from './mediasoup-api.ts';
import { codecCapability, type FeedTrack } from './sdp-translation.ts';

/** 12 bytes (two SSRC entries): FFmpeg drops RTP/RTCP packets shorter than that. */
const RTCP_BYE = Buffer.from([0x82, 0xcb, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]);

/** Sends an RTCP BYE to a port and port + 1: FFmpeg reads it as the end of its input. */
export function sendRtcpBye(host: string, port: number): void {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  let pending = 2;
  const sent = () => {
    if (--pending === 0) socket.close();
  };
  socket.send(RTCP_BYE, port, host, sent);
  socket.send(RTCP_BYE, port + 1, host, sent);
}

export interface PlainLinkOptions extends PlainRtpOptions {
  log: Logger;
  /** The feed for these tracks (the router's, on its current worker). */
  openFeed: (tracks: readonly FeedTrack[], source: MediaSource) => Promise<Feed>;
  onClose: () => void;
}

export class MediasoupPlainLink implements PlainRtpTransport {
  readonly #opts: PlainLinkOptions;
  readonly #tracks: FeedTrack[];
  #feed: Feed | undefined;
  #transports: PlainTransport[] = [];
  #consumers: Consumer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout;
  #keyframeWatch: (() => void) | undefined;
  #packets = 0;
  #closed = false;

  constructor(opts: PlainLinkOptions) {
    this.#opts = opts;
    const { source, targets } = opts;
    this.#tracks = targets.map((t) => {
      const track = source.tracks.find((s) => s.id === t.trackId);
      if (!track) throw new RangeError(`source ${source.id} has no track ${t.trackId}`);
      return { kind: track.kind, codec: track.codec, payloadType: t.payloadType };
    });
    if (opts.keyframeIntervalMs !== undefined && opts.keyframeIntervalMs > 0) {
      this.#timer = setInterval(() => this.#requestKeyframe(), opts.keyframeIntervalMs);
      this.#timer.unref();
    }
    this.#statsTimer = setInterval(() => void this.#readStats(), 1000);
    this.#statsTimer.unref();
    this.attach();
  }

  /** (Re)connects the consumers on the router's current worker. */
  attach(): void {
    if (this.#closed) return;
    this.#detach();
    this.#connect().catch((err: unknown) => {
      if (this.#closed) return;
      // No worker right now (one died and its replacement is starting): try again shortly.
      this.#opts.log.warn({ err }, 'the mediasoup link to the encoder failed; retrying in 1 s');
      const retry = setTimeout(() => this.attach(), 1000);
      retry.unref();
    });
  }

  async #connect(): Promise<void> {
    const { source, targets } = this.#opts;
    const feed = await this.#opts.openFeed(this.#tracks, source);
    if (this.#closed) {
      feed.release();
      return;
    }
    this.#feed = feed;
    for (const [i, target] of targets.entries()) {
      const track = this.#tracks[i]!;
      const producerId = feed.producerId(track.kind);
      if (!producerId) continue;
      const transport = await feed.router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
        rtcpMux: false,
        comedia: false,
      });
      this.#transports.push(transport);
      if (this.#closed) return transport.close();
      await transport.connect({ ip: target.host, port: target.port, rtcpPort: target.port + 1 });
      const consumer = await transport.consume({
        producerId,
        rtpCapabilities: {
          codecs: [codecCapability(track.kind, track.codec, track.payloadType, [])],
          headerExtensions: [],
        },
      });
      this.#consumers.push(consumer);
    }
    // The encoder needs a keyframe to start decoding: asked now, and again until one passes.
    this.#requestKeyframe();
    if (this.#consumers.some((c) => c.kind === 'video'))
      this.#keyframeWatch = untilKeyframe(this.#opts.source, () => this.#requestKeyframe());
  }

  #requestKeyframe(): void {
    for (const c of this.#consumers)
      if (c.kind === 'video' && !c.closed) c.requestKeyFrame().catch(() => undefined);
    // The feed may not have started on a keyframe yet: the source's gate drops the repeat.
    this.#opts.source.requestKeyframe();
  }

  async #readStats(): Promise<void> {
    let n = 0;
    for (const c of this.#consumers) {
      if (c.closed) continue;
      for (const s of await c.getStats().catch(() => []))
        if (s.type === 'outbound-rtp') n += s.packetCount ?? 0;
    }
    this.#packets = Math.max(this.#packets, n);
  }

  get packets(): number {
    return this.#packets;
  }

  #detach(): void {
    this.#keyframeWatch?.();
    this.#keyframeWatch = undefined;
    for (const t of this.#transports) t.close();
    this.#transports = [];
    this.#consumers = [];
    this.#feed?.release();
    this.#feed = undefined;
  }

  close(opts: { bye?: boolean } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    clearInterval(this.#statsTimer);
    this.#detach();
    if (opts.bye) for (const t of this.#opts.targets) sendRtcpBye(t.host, t.port);
    this.#opts.onClose();
  }
}
