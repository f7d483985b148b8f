/**
 * A WebRTC publisher (WHIP) on mediasoup: a WebRtcTransport with a Producer
 * per track, on the channel's router. The browser's media stays in the
 * worker (SRTP, NACK to the publisher, congestion feedback); a DirectTransport
 * Consumer per track brings each packet into Node once, for the channel's
 * source (failover switcher, and from there FFmpeg and viewers). Keyframe
 * requests go through that consumer to the producer (PLI/FIR to the browser),
 * behind the source's gate.
 */
import { randomBytes } from 'node:crypto';
import { OnairError } from '../../../lib/errors.ts';
import type { Logger } from '../../log.ts';
import { isKeyframeStart, readRtpHeader } from '../../media/rtp.ts';
import { addBitrateHints } from '../../media/sdp.ts';
import type {
  MediaKind,
  RtpCodec,
  RtpListener,
  SourceEvents,
  SourceState,
  SourceStats,
  SourceTrack,
} from '../../media/source.ts';
import { TypedEmitter } from '../../media/typed-emitter.ts';
import type { PublisherOptions, PublisherSession } from '../engine.ts';
import { KeyframeGate } from '../keyframe-gate.ts';
import { RtpStreamCounter } from '../rtp-stats.ts';
import { VideoProbe } from '../../media/video-probe.ts';
import type { Consumer, DirectTransport, Router, WebRtcTransport } from './mediasoup-api.ts';
import { planPublisher, publisherAnswer } from './sdp-translation.ts';
import type { TransportFactory } from './worker-pool.ts';

export interface MediasoupPublisherOptions {
  log: Logger;
  router: Router;
  transports: TransportFactory;
  silenceTimeoutMs?: number;
  disconnectTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export class MediasoupPublisher implements PublisherSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly kind = 'webrtc' as const;
  readonly engine = 'mediasoup';
  answer = '';
  codecs!: { video: RtpCodec; audio: RtpCodec | undefined };
  tracks: readonly SourceTrack[] = [];
  state: SourceState = 'connecting';
  liveSince: number | undefined;

  readonly #opts: MediasoupPublisherOptions;
  readonly #events: TypedEmitter<SourceEvents>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly #counters: Record<MediaKind, RtpStreamCounter> = {
    video: new RtpStreamCounter(),
    audio: new RtpStreamCounter(),
  };
  readonly #keyframes = new KeyframeGate(() => this.#requestKeyframe());
  readonly #consumers: Partial<Record<MediaKind, Consumer>> = {};
  #transport: WebRtcTransport | undefined;
  #direct: DirectTransport | undefined;
  #probe: VideoProbe | undefined;
  #lastPacketAt = Date.now();
  #timers: NodeJS.Timeout[] = [];
  #disconnectTimer: NodeJS.Timeout | undefined;

  constructor(opts: MediasoupPublisherOptions) {
    this.#opts = opts;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'publisher listener failed'));
  }

  async negotiate(p: PublisherOptions): Promise<void> {
    const plan = planPublisher(p.offer, { videoCodec: p.videoCodec, withAudio: p.withAudio });
    const router = this.#opts.router;
    const transport = await this.#opts.transports.webRtcTransport(router, 'publisher');
    this.#transport = transport;
    transport.on('dtlsstatechange', (s) => this.#onDtlsState(s));
    transport.on('icestatechange', (s) => this.#onIceState(s));
    transport.on('routerclose', () => this.close('the SFU worker closed'));
    await transport.connect({ dtlsParameters: plan.remoteDtls });
    const direct = await router.createDirectTransport();
    this.#direct = direct;
    const codecs: { video: RtpCodec; audio: RtpCodec | undefined } = {
      video: plan.video.codec,
      audio: undefined,
    };
    for (const t of [plan.video, plan.audio]) {
      if (!t) continue;
      const producer = await transport.produce({ kind: t.kind, rtpParameters: t.rtpParameters });
      // Into Node once per packet; router payload types (the track declares the one it carries).
      const consumer = await direct.consume({
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
      });
      this.#consumers[t.kind] = consumer;
      const pt = consumer.rtpParameters.codecs[0]?.payloadType ?? t.codec.payloadType;
      codecs[t.kind] = { ...t.codec, payloadType: pt };
      consumer.on('rtp', (packet) => this.#onRtp(t.kind, packet));
    }
    this.codecs = codecs;
    this.tracks = [
      { id: 'video', kind: 'video', codec: codecs.video, ssrc: this.#ssrc('video') },
      ...(codecs.audio
        ? [{ id: 'audio', kind: 'audio' as const, codec: codecs.audio, ssrc: this.#ssrc('audio') }]
        : []),
    ];
    this.#probe = new VideoProbe(codecs.video.name);
    this.answer = addBitrateHints(publisherAnswer(plan, transport, this.id), p.bitrate);
    const connectTimeout = this.#opts.connectTimeoutMs ?? 15_000;
    this.#timers.push(
      setTimeout(() => {
        if (this.state === 'connecting')
          this.close(`ICE did not connect within ${Math.round(connectTimeout / 1000)} s`);
      }, connectTimeout),
    );
  }

  #ssrc(kind: MediaKind): number | undefined {
    return this.#consumers[kind]?.rtpParameters.encodings?.[0]?.ssrc;
  }

  #onRtp(kind: MediaKind, packet: Buffer): void {
    if (this.state === 'ended') return;
    this.#lastPacketAt = Date.now();
    const header = readRtpHeader(packet);
    if (!header) return;
    this.#counters[kind].add(header.sequenceNumber, packet.length);
    if (kind === 'video') {
      this.#probe?.push(packet);
      if (isKeyframeStart(this.codecs.video.name, packet.subarray(header.payloadOffset, header.payloadEnd)))
        this.#keyframes.keyframeArrived();
    }
    for (const l of this.#listeners[kind]) {
      try {
        l(packet);
      } catch (err) {
        this.#opts.log.error({ err }, 'RTP consumer failed');
      }
    }
  }

  #onDtlsState(state: string): void {
    if (this.state === 'ended') return;
    if (state === 'connected' && this.state === 'connecting') {
      this.state = 'live';
      this.liveSince = Date.now();
      this.#lastPacketAt = Date.now();
      this.#startSilenceWatch();
      this.#events.emit('live');
    } else if (state === 'failed' || state === 'closed') {
      this.close(`DTLS ${state}`);
    }
  }

  #onIceState(state: string): void {
    if (this.state === 'ended') return;
    if (state === 'connected' || state === 'completed') {
      if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
    } else if (state === 'disconnected') {
      this.#disconnectTimer ??= setTimeout(
        () => this.close('ICE disconnected'),
        this.#opts.disconnectTimeoutMs ?? 5000,
      );
    } else if (state === 'closed') {
      this.close('ICE closed');
    }
  }

  #startSilenceWatch(): void {
    const limit = this.#opts.silenceTimeoutMs ?? 5000;
    this.#timers.push(
      setInterval(
        () => {
          if (Date.now() - this.#lastPacketAt > limit)
            this.close(`no media for ${Math.round(limit / 1000)} s`);
        },
        Math.min(1000, limit),
      ),
    );
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    const kind: MediaKind | undefined =
      trackId === 'video' ? 'video' : trackId === 'audio' && this.codecs.audio ? 'audio' : undefined;
    if (!kind) throw new RangeError(`publisher ${this.id} has no track ${trackId}`);
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  requestKeyframe(): void {
    this.#keyframes.request();
  }

  /** Through the consumer to the producer: mediasoup sends PLI (or FIR) to the publisher. */
  #requestKeyframe(): void {
    const c = this.#consumers.video;
    if (this.state !== 'live' || !c || c.closed) return;
    c.requestKeyFrame().catch(() => undefined);
  }

  stats(): SourceStats {
    return {
      tracks: this.tracks.map((t) => {
        const c = this.#counters[t.kind];
        return {
          trackId: t.id,
          kind: t.kind,
          codec: t.codec.name,
          packets: c.packets,
          bytes: c.bytes,
          packetsLost: c.lost,
        };
      }),
      width: this.#probe?.format?.width,
      height: this.#probe?.format?.height,
      fps: this.#probe?.fps(),
    };
  }

  on<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /** Closes the transports (and with them the producers and consumers). Idempotent. */
  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    for (const t of this.#timers) clearTimeout(t);
    if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    this.#direct?.close();
    this.#transport?.close();
    this.#events.emit('ended', reason);
    this.#events.removeAll();
  }
}

export function negotiationError(err: unknown): OnairError {
  if (err instanceof OnairError) return err;
  return new OnairError('unsupported_offer', `the offer could not be negotiated: ${(err as Error).message}`, {
    cause: err,
  });
}
