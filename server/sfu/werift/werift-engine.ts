/** The default SFU engine: werift, pure TypeScript WebRTC. */
import { randomBytes } from 'node:crypto';
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type MediaStreamTrack,
  type RTCRtpTransceiver,
  type RtpPacket,
} from 'werift';
import { OnairError } from '../../../lib/errors.ts';
import type { IceServer } from '../../config.ts';
import { addBitrateHints, filterCandidates, parseMediaSections } from '../../ingest/sdp.ts';
import type { Logger } from '../../log.ts';
import type {
  MediaKind,
  PublisherOptions,
  PublisherSession,
  PublisherSessionEvents,
  RtpCodec,
  RtpListener,
  SfuEngine,
  TrackStats,
} from '../engine.ts';
import { RtpStreamCounter } from '../rtp-stats.ts';
import { TypedEmitter } from '../typed-emitter.ts';

export interface WeriftEngineOptions {
  log: Logger;
  iceServers: IceServer[];
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  /** Gather and answer loopback candidates only (tests, single-machine setups). */
  loopbackOnly: boolean;
  /** A connected publisher that sends nothing for this long is closed. */
  silenceTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
}

const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

export class WeriftEngine implements SfuEngine {
  readonly name = 'werift';
  readonly #opts: WeriftEngineOptions;
  readonly #sessions = new Set<WeriftPublisher>();
  #closed = false;

  constructor(opts: WeriftEngineOptions) {
    this.#opts = opts;
  }

  async createPublisher(p: PublisherOptions): Promise<PublisherSession> {
    if (this.#closed) throw new OnairError('unavailable', 'the SFU is shutting down');
    const o = this.#opts;
    const video =
      p.videoCodec === 'H264'
        ? new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: FEEDBACK,
            parameters: 'packetization-mode=1;level-asymmetry-allowed=1',
          })
        : new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: FEEDBACK });
    const pc = new RTCPeerConnection({
      codecs: {
        video: [video],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      },
      iceServers: o.iceServers,
      icePortRange: o.portRange,
      iceUseIpv6: false,
      iceUseTcp: false,
      ...(o.loopbackOnly
        ? { iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] }
        : o.publicIp
          ? { iceAdditionalHostAddresses: [o.publicIp] }
          : {}),
    });
    const session = new WeriftPublisher(pc, o);
    try {
      await session.negotiate(p);
    } catch (err) {
      session.close('negotiation failed');
      if (err instanceof OnairError) throw err;
      throw new OnairError(
        'unsupported_offer',
        `the offer could not be negotiated: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#sessions.add(session);
    session.on('closed', () => this.#sessions.delete(session));
    return session;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) s.close('server shutting down');
    await Promise.resolve();
  }
}

class WeriftPublisher implements PublisherSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly engine = 'werift';
  answer = '';
  codecs!: { video: RtpCodec; audio: RtpCodec | undefined };
  state: 'connecting' | 'connected' | 'closed' = 'connecting';
  connectedAt: number | undefined;

  readonly #pc: RTCPeerConnection;
  readonly #opts: WeriftEngineOptions;
  readonly #events: TypedEmitter<PublisherSessionEvents>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly #counters: Record<MediaKind, RtpStreamCounter> = {
    video: new RtpStreamCounter(),
    audio: new RtpStreamCounter(),
  };
  #videoTransceiver: RTCRtpTransceiver | undefined;
  #videoTrack: MediaStreamTrack | undefined;
  #lastPacketAt = Date.now();
  #timers: NodeJS.Timeout[] = [];
  #disconnectTimer: NodeJS.Timeout | undefined;

  constructor(pc: RTCPeerConnection, opts: WeriftEngineOptions) {
    this.#pc = pc;
    this.#opts = opts;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'publisher listener failed'));
  }

  async negotiate(p: PublisherOptions): Promise<void> {
    const pc = this.#pc;
    pc.onTrack.subscribe((track) => this.#attachTrack(track));
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    await pc.setRemoteDescription({ type: 'offer', sdp: p.offer });
    for (const t of pc.getTransceivers()) {
      if (t.kind === 'video') this.#videoTransceiver ??= t;
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.#gatheringComplete(3000);
    let sdp = pc.localDescription?.sdp ?? '';
    if (this.#opts.loopbackOnly) sdp = filterCandidates(sdp, (a) => a === '127.0.0.1');
    this.answer = addBitrateHints(sdp, p.bitrate);
    this.codecs = negotiatedCodecs(this.answer, p.withAudio);
    // Sessions that never connect are dropped, so a bad client cannot hold a channel.
    this.#timers.push(
      setTimeout(() => {
        if (this.state === 'connecting') this.close('ICE did not connect within 15 s');
      }, 15_000),
    );
  }

  async #gatheringComplete(timeoutMs: number): Promise<void> {
    if (this.#pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const sub = this.#pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') done();
      });
      function done() {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      }
    });
  }

  #attachTrack(track: MediaStreamTrack): void {
    const kind: MediaKind = track.kind === 'video' ? 'video' : 'audio';
    if (kind === 'video') this.#videoTrack = track;
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (this.state === 'closed') return;
      this.#lastPacketAt = Date.now();
      const buf = rtp.serialize();
      this.#counters[kind].add(rtp.header.sequenceNumber, buf.length);
      for (const l of this.#listeners[kind]) {
        try {
          l(buf);
        } catch (err) {
          this.#opts.log.error({ err }, 'RTP consumer failed');
        }
      }
    });
  }

  #onConnectionState(state: string): void {
    if (this.state === 'closed') return;
    if (state === 'connected') {
      if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
      if (this.state !== 'connected') {
        this.state = 'connected';
        this.connectedAt = Date.now();
        this.#lastPacketAt = Date.now();
        this.#startSilenceWatch();
        this.#events.emit('connected');
      }
    } else if (state === 'disconnected') {
      this.#disconnectTimer ??= setTimeout(
        () => this.close('ICE disconnected'),
        this.#opts.disconnectTimeoutMs ?? 5000,
      );
    } else if (state === 'failed' || state === 'closed') {
      this.close(`ICE ${state}`);
    }
  }

  #startSilenceWatch(): void {
    const limit = this.#opts.silenceTimeoutMs ?? 5000;
    this.#timers.push(
      setInterval(() => {
        if (Date.now() - this.#lastPacketAt > limit) this.close(`no media for ${Math.round(limit / 1000)} s`);
      }, 1000),
    );
  }

  subscribe(kind: MediaKind, listener: RtpListener): () => void {
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  requestKeyframe(): void {
    const ssrc = this.#videoTrack?.ssrc;
    if (this.state !== 'connected' || ssrc === undefined || !this.#videoTransceiver) return;
    this.#videoTransceiver.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  }

  stats(): TrackStats[] {
    const out: TrackStats[] = [];
    for (const kind of ['video', 'audio'] as const) {
      const codec = kind === 'video' ? this.codecs.video : this.codecs.audio;
      if (!codec) continue;
      const c = this.#counters[kind];
      out.push({ kind, codec: codec.name, packets: c.packets, bytes: c.bytes, packetsLost: c.lost });
    }
    return out;
  }

  on<E extends keyof PublisherSessionEvents>(
    event: E,
    listener: (...args: PublisherSessionEvents[E]) => void,
  ): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof PublisherSessionEvents>(
    event: E,
    listener: (...args: PublisherSessionEvents[E]) => void,
  ): void {
    this.#events.off(event, listener);
  }

  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.#timers) clearTimeout(t);
    if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    this.#pc.close().catch((err: unknown) => this.#opts.log.warn({ err }, 'peer connection close failed'));
    this.#events.emit('closed', reason);
    this.#events.removeAll();
  }
}

/** The codecs the answer settled on: the first primary codec of each section. */
function negotiatedCodecs(
  answer: string,
  withAudio: boolean,
): { video: RtpCodec; audio: RtpCodec | undefined } {
  const sections = parseMediaSections(answer);
  const pick = (kind: MediaKind): RtpCodec | undefined => {
    const s = sections.find((m) => m.kind === kind && m.port !== 0);
    const c = s?.codecs.find((x) => !['RTX', 'RED', 'ULPFEC'].includes(x.name));
    if (!c) return undefined;
    return {
      kind,
      name: c.name,
      payloadType: c.payloadType,
      clockRate: c.clockRate,
      ...(kind === 'audio' ? { channels: 2 } : {}),
      fmtp: c.fmtp,
    };
  };
  const video = pick('video');
  if (!video) throw new OnairError('unsupported_offer', 'no video codec could be agreed with the publisher');
  return { video, audio: withAudio ? pick('audio') : undefined };
}
