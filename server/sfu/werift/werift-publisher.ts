/** A WebRTC publisher on werift: one peer connection, a video and an optional audio track. */
import { randomBytes } from 'node:crypto';
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver, RtpPacket } from 'werift';
import { OnairError } from '../../../lib/errors.ts';
import type { Logger } from '../../log.ts';
import { addBitrateHints, filterCandidates, parseMediaSections } from '../../media/sdp.ts';
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
import { isKeyframeStart } from '../../media/rtp.ts';
import type { PublisherOptions, PublisherSession } from '../engine.ts';
import { KeyframeGate } from '../keyframe-gate.ts';
import { RtpStreamCounter } from '../rtp-stats.ts';
import { VideoProbe } from '../../media/video-probe.ts';
import { enlargeReceiveBuffers, useKeyObjects } from './tuning.ts';

/** Room for a keyframe burst while the event loop forwards the previous packets to every viewer. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface WeriftPublisherOptions {
  log: Logger;
  /** Answer only loopback candidates (tests, single-machine setups). */
  loopbackOnly: boolean;
  /** A live publisher that sends nothing for this long is closed. */
  silenceTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
  /** A publisher that does not connect in this time is closed. */
  connectTimeoutMs?: number;
}

export class WeriftPublisher implements PublisherSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly kind = 'webrtc' as const;
  readonly engine = 'werift';
  answer = '';
  codecs!: { video: RtpCodec; audio: RtpCodec | undefined };
  tracks: readonly SourceTrack[] = [];
  state: SourceState = 'connecting';
  liveSince: number | undefined;

  readonly #pc: RTCPeerConnection;
  readonly #opts: WeriftPublisherOptions;
  readonly #events: TypedEmitter<SourceEvents>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly #counters: Record<MediaKind, RtpStreamCounter> = {
    video: new RtpStreamCounter(),
    audio: new RtpStreamCounter(),
  };
  readonly #ssrcs: Record<MediaKind, number | undefined> = { video: undefined, audio: undefined };
  readonly #keyframes = new KeyframeGate(() => this.#sendPli());
  #probe: VideoProbe | undefined;
  #videoTransceiver: RTCRtpTransceiver | undefined;
  #videoTrack: MediaStreamTrack | undefined;
  #lastPacketAt = Date.now();
  #timers: NodeJS.Timeout[] = [];
  #disconnectTimer: NodeJS.Timeout | undefined;

  constructor(pc: RTCPeerConnection, opts: WeriftPublisherOptions) {
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
      // DTLS server (a=setup:passive): the publisher starts the handshake as soon as ICE is up,
      // where werift as the client would first wait a fixed 100 ms.
      t.receiver.dtlsTransport.role = 'server';
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.#gatheringComplete(3000);
    let sdp = pc.localDescription?.sdp ?? '';
    if (this.#opts.loopbackOnly) sdp = filterCandidates(sdp, (a) => a === '127.0.0.1');
    this.answer = addBitrateHints(sdp, p.bitrate);
    this.codecs = negotiatedCodecs(this.answer, p.withAudio);
    this.#probe = new VideoProbe(this.codecs.video.name);
    this.#refreshTracks();
    // Sessions that never connect are dropped, so a bad client cannot hold a channel.
    const connectTimeout = this.#opts.connectTimeoutMs ?? 15_000;
    this.#timers.push(
      setTimeout(() => {
        if (this.state === 'connecting')
          this.close(`ICE did not connect within ${Math.round(connectTimeout / 1000)} s`);
      }, connectTimeout),
    );
  }

  #refreshTracks(): void {
    const tracks: SourceTrack[] = [
      { id: 'video', kind: 'video', codec: this.codecs.video, ssrc: this.#ssrcs.video },
    ];
    if (this.codecs.audio)
      tracks.push({ id: 'audio', kind: 'audio', codec: this.codecs.audio, ssrc: this.#ssrcs.audio });
    this.tracks = tracks;
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
      if (this.state === 'ended') return;
      this.#lastPacketAt = Date.now();
      const buf = rtp.serialize();
      if (this.#ssrcs[kind] !== rtp.header.ssrc) {
        this.#ssrcs[kind] = rtp.header.ssrc;
        this.#refreshTracks();
      }
      this.#counters[kind].add(rtp.header.sequenceNumber, buf.length);
      if (kind === 'video') {
        this.#probe?.push(buf);
        if (isKeyframeStart(this.codecs.video.name, rtp.payload)) this.#keyframes.keyframeArrived();
      }
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
    if (this.state === 'ended') return;
    if (state === 'connected') {
      if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
      if (this.state !== 'live') {
        for (const t of this.#pc.getTransceivers()) {
          useKeyObjects(t.receiver.dtlsTransport);
          enlargeReceiveBuffers(t.receiver.dtlsTransport, RECEIVE_BUFFER_BYTES);
        }
        this.state = 'live';
        this.liveSince = Date.now();
        this.#lastPacketAt = Date.now();
        this.#startSilenceWatch();
        this.#events.emit('live');
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

  #sendPli(): void {
    const ssrc = this.#videoTrack?.ssrc;
    if (this.state !== 'live' || ssrc === undefined || !this.#videoTransceiver) return;
    this.#videoTransceiver.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  }

  stats(): SourceStats {
    const tracks = this.tracks.map((t) => {
      const c = this.#counters[t.kind];
      return {
        trackId: t.id,
        kind: t.kind,
        codec: t.codec.name,
        packets: c.packets,
        bytes: c.bytes,
        packetsLost: c.lost,
      };
    });
    return {
      tracks,
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

  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    for (const t of this.#timers) clearTimeout(t);
    if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    this.#pc.close().catch((err: unknown) => this.#opts.log.warn({ err }, 'peer connection close failed'));
    this.#events.emit('ended', reason);
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
