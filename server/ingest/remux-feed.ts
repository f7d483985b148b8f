/**
 * One publisher connection's media as RTP (an RTMP stream, a rendition of a
 * multi-bitrate RTMP encoder, or an SRT caller): the remuxer FFmpeg it feeds,
 * the RTP fan-out per kind, and what was received. The protocol side writes
 * the container bytes; the source (remux-source.ts) hands the RTP on.
 *
 * Lifecycle: `close(reason)` (idempotent) stops the remuxer and tells the
 * protocol side to drop its connection; `ended` is emitted once, whoever ends.
 */
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { MediaKind, RtpListener } from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import { VideoProbe } from '../media/video-probe.ts';
import { RtpRemuxer } from './rtp-remuxer.ts';

export interface TransportStats {
  packetsLost: number;
  packetsRetransmitted: number;
  packetsDropped: number;
  rttMs: number | undefined;
}

export interface RemuxFeedEvents {
  /** RTP flows (the first video packet arrived). Once. */
  ready: [];
  ended: [reason: string];
}

export interface RemuxFeedOptions {
  /** 'source' for a single stream, the rendition name for one of several. */
  name: string;
  ffmpegPath: string;
  log: Logger;
  /** Owns the remuxer's FFmpeg. */
  children: ChildRegistry;
  /** Drops the protocol connection (RTMP socket, SRT listener process). */
  disconnect: (reason: string) => void;
  /** A live feed that sends nothing for this long is ended. */
  silenceTimeoutMs?: number;
}

class Counter {
  packets = 0;
  bytes = 0;
}

export class RemuxFeed {
  readonly name: string;
  readonly connectedAt = Date.now();
  readonly #opts: RemuxFeedOptions;
  readonly #events: TypedEmitter<RemuxFeedEvents>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly counters: Record<MediaKind, Counter> = { video: new Counter(), audio: new Counter() };
  readonly probe = new VideoProbe('H264');
  #remuxer: RtpRemuxer | undefined;
  #starting: Promise<void> | undefined;
  #pending: Buffer[] = [];
  #ready = false;
  #ended = false;
  #lastPacketAt = Date.now();
  #silence: NodeJS.Timeout | undefined;
  hasAudio = false;
  /** Extra facts from the protocol: SRT transport counters, the encoder's keyframe interval. */
  transport: TransportStats | undefined;
  gopMs: number | undefined;
  /** The H.264 profile-level-id (hex) when the protocol side knows it. */
  profileLevelId: string | undefined;

  constructor(opts: RemuxFeedOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'feed listener failed'));
  }

  get ready(): boolean {
    return this.#ready;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get remuxerPid(): number | undefined {
    return this.#remuxer?.pid;
  }

  on<E extends keyof RemuxFeedEvents>(event: E, listener: (...args: RemuxFeedEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof RemuxFeedEvents>(event: E, listener: (...args: RemuxFeedEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /** The container and its tracks are known: the remuxer starts; bytes written before are kept for it. */
  start(input: 'flv' | 'mpegts', hasAudio: boolean): void {
    if (this.#starting || this.#ended) return;
    this.hasAudio = hasAudio;
    this.#starting = RtpRemuxer.start({
      ffmpegPath: this.#opts.ffmpegPath,
      input,
      audio: hasAudio,
      log: this.#opts.log,
      children: this.#opts.children,
      onRtp: (kind, packet) => this.#rtp(kind, packet),
    }).then(
      (remuxer) => {
        this.#remuxer = remuxer;
        if (this.#ended) {
          void remuxer.close();
          return;
        }
        for (const b of this.#pending) remuxer.write(b);
        this.#pending = [];
        void remuxer.exited.then((exit) => {
          this.close(
            exit.code === 0 || this.#ended
              ? 'the stream ended'
              : `the remuxer exited (${String(exit.code ?? exit.signal)}): ${exit.stderrTail || 'no output'}`,
          );
        });
      },
      (err: unknown) => this.close(`the remuxer could not start: ${(err as Error).message}`),
    );
  }

  /** Container bytes (FLV or MPEG-TS) for the remuxer. */
  write(chunk: Buffer): void {
    if (this.#ended) return;
    if (this.#remuxer) this.#remuxer.write(chunk);
    else this.#pending.push(Buffer.from(chunk));
  }

  #rtp(kind: MediaKind, packet: Buffer): void {
    if (this.#ended) return;
    this.#lastPacketAt = Date.now();
    const c = this.counters[kind];
    c.packets++;
    c.bytes += packet.length;
    if (kind === 'video') {
      this.probe.push(packet);
      if (!this.#ready) {
        this.#ready = true;
        this.#startSilenceWatch();
        this.#events.emit('ready');
      }
    }
    for (const l of this.#listeners[kind]) {
      try {
        l(packet);
      } catch (err) {
        this.#opts.log.error({ err }, 'RTP consumer failed');
      }
    }
  }

  #startSilenceWatch(): void {
    const limit = this.#opts.silenceTimeoutMs ?? 5000;
    this.#silence = setInterval(
      () => {
        if (Date.now() - this.#lastPacketAt > limit) this.close(`no media for ${Math.round(limit / 1000)} s`);
      },
      Math.min(1000, limit),
    );
    this.#silence.unref();
  }

  subscribe(kind: MediaKind, listener: RtpListener): () => void {
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  close(reason = 'closed'): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#silence) clearInterval(this.#silence);
    this.#pending = [];
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    void this.#remuxer?.close();
    try {
      this.#opts.disconnect(reason);
    } catch (err) {
      this.#opts.log.warn({ err }, 'disconnect failed');
    }
    this.#events.emit('ended', reason);
    this.#events.removeAll();
  }

  /** Resolves once the remuxer process (if any) has exited. */
  async closed(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#remuxer?.exited;
  }
}
