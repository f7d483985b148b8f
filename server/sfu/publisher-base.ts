/**
 * What every WebRTC publisher shares, whatever the engine: the source's state
 * and fan-out (SourceBase), the connect deadline, the grace period of a
 * disconnected connection and the silence watch (SessionTimers), RTP counters
 * and the video probe behind `stats()`, and the keyframe policy (many requests,
 * one PLI: KeyframeGate). The werift and mediasoup publishers keep only how
 * they negotiate, receive packets and ask the browser for a keyframe.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { isKeyframeStart } from '../media/rtp.ts';
import {
  SourceBase,
  trackStats,
  type MediaKind,
  type RtpCodec,
  type SourceStats,
  type SourceTrack,
} from '../media/source.ts';
import { VideoProbe } from '../media/video-probe.ts';
import type { PublisherSession } from './engine.ts';
import { KeyframeGate } from './keyframe-gate.ts';
import { RtpStreamCounter } from './rtp-stats.ts';
import { SessionTimers } from './session-timers.ts';

export interface PublisherTimeouts {
  /** A live publisher that sends nothing for this long is closed. */
  silenceTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
  /** A publisher that does not connect in this time is closed. */
  connectTimeoutMs?: number;
}

export abstract class PublisherBase extends SourceBase implements PublisherSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly kind = 'webrtc' as const;
  answer = '';
  tracks: readonly SourceTrack[] = [];
  codecs!: { video: RtpCodec; audio: RtpCodec | undefined };
  protected readonly log: Logger;
  protected readonly timers = new SessionTimers((reason) => this.close(reason));
  readonly #timeouts: PublisherTimeouts;
  readonly #counters: Record<MediaKind, RtpStreamCounter> = {
    video: new RtpStreamCounter(),
    audio: new RtpStreamCounter(),
  };
  readonly #keyframes = new KeyframeGate(() => this.sendKeyframeRequest());
  #probe: VideoProbe | undefined;
  #lastPacketAt = Date.now();

  constructor(log: Logger, timeouts: PublisherTimeouts) {
    super({
      onListenerError: (err) => log.error({ err }, 'publisher listener failed'),
      onConsumerError: (err) => log.error({ err }, 'RTP consumer failed'),
    });
    this.log = log;
    this.#timeouts = timeouts;
  }

  protected override noTrack(trackId: string): string {
    return `publisher ${this.id} has no track ${trackId}`;
  }

  /** The codecs are agreed: the probe reads the video, and the connect deadline runs. */
  protected negotiated(codecs: { video: RtpCodec; audio: RtpCodec | undefined }): void {
    this.codecs = codecs;
    this.#probe = new VideoProbe(codecs.video.name);
    this.timers.connectDeadline(this.#timeouts.connectTimeoutMs ?? 15_000, () => this.state === 'connecting');
  }

  /** The connection is up for the first time: live, and silence is watched from now. */
  protected connected(): void {
    this.#lastPacketAt = Date.now();
    const limit = this.#timeouts.silenceTimeoutMs ?? 5000;
    this.timers.watchSilence(
      limit,
      () => this.#lastPacketAt,
      (s) => `no media for ${s} s`,
    );
    this.goneLive();
  }

  protected get disconnectTimeoutMs(): number {
    return this.#timeouts.disconnectTimeoutMs ?? 5000;
  }

  /** Something arrived from the publisher (even a packet that is then dropped). */
  protected heard(): void {
    this.#lastPacketAt = Date.now();
  }

  /** One RTP packet of a track: counted, probed (video), checked for a keyframe, fanned out. */
  protected received(kind: MediaKind, packet: Buffer, sequenceNumber: number, payload: Uint8Array): void {
    this.#counters[kind].add(sequenceNumber, packet.length);
    if (kind === 'video') {
      this.#probe?.push(packet);
      if (isKeyframeStart(this.codecs.video.name, payload)) this.#keyframes.keyframeArrived();
    }
    this.deliver(kind, packet);
  }

  requestKeyframe(): void {
    this.#keyframes.request();
  }

  /** Asks the browser for a keyframe (PLI or FIR); called through the gate. */
  protected abstract sendKeyframeRequest(): void;

  stats(): SourceStats {
    return {
      tracks: trackStats(this.tracks, this.#counters),
      width: this.#probe?.format?.width,
      height: this.#probe?.format?.height,
      fps: this.#probe?.fps(),
    };
  }

  protected override release(_reason: string): void {
    this.timers.clear();
  }
}
