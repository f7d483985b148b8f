/**
 * The SFU engine interface, shaped after mediasoup's ownership tree:
 *
 *   SfuEngine (one per process)
 *     └─ ChannelRouter (one per running channel)
 *          ├─ PublisherSession   — a WebRTC publisher (WHIP): a MediaSource
 *          └─ PlainRtpTransport  — a source's tracks sent as plain RTP to a port on
 *                                  loopback (FFmpeg's input), like mediasoup's PlainTransport
 *
 * Closing a parent closes its children. `werift` implements it in pure
 * TypeScript; a mediasoup engine implements the same shape (router per channel,
 * WebRtcTransport producers, PlainTransport consumers).
 */
import type { MediaSource, RtpCodec } from '../media/source.ts';

export interface PublisherOptions {
  /** The publisher's SDP offer (already checked by the WHIP endpoint). */
  offer: string;
  videoCodec: 'H264' | 'VP8';
  withAudio: boolean;
  /** Bitrate hints for the publisher, in kbit/s. */
  bitrate: { min: number; start: number; max: number };
}

/** A WebRTC publisher: a source, plus what its signalling needs. */
export interface PublisherSession extends MediaSource {
  readonly kind: 'webrtc';
  /** The SDP answer, with every candidate. */
  readonly answer: string;
  readonly codecs: { video: RtpCodec; audio: RtpCodec | undefined };
}

export interface PlainRtpTarget {
  /** The source track to send. */
  trackId: string;
  host: string;
  port: number;
  /** The payload type the receiver's SDP declares: packets are rewritten to it. */
  payloadType: number;
}

export interface PlainRtpOptions {
  source: MediaSource;
  targets: readonly PlainRtpTarget[];
  /**
   * Keyframe policy of this consumer: one keyframe request when it starts, then
   * one every `keyframeIntervalMs` (passthrough cuts segments at keyframes).
   */
  keyframeIntervalMs?: number;
}

/** A consumer that sends a source's tracks as plain RTP on loopback. */
export interface PlainRtpTransport {
  readonly packets: number;
  /**
   * Stops sending. With `bye`, the receiver is first told that the stream ended
   * (RTCP BYE), so FFmpeg finishes its files at once. Idempotent.
   */
  close(opts?: { bye?: boolean }): void;
}

export interface ChannelRouter {
  readonly channelId: string;
  readonly closed: boolean;
  /** Negotiates a WebRTC publisher. Throws OnairError (unsupported_offer, unavailable). */
  createPublisher(opts: PublisherOptions): Promise<PublisherSession>;
  createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport;
  /** Closes every session and transport of the channel. Idempotent. */
  close(): void;
}

export interface SfuEngine {
  readonly name: string;
  /** The channel's scope. One router per channel; the caller closes it when the channel stops. */
  createRouter(channelId: string): ChannelRouter;
  /** Closes every router. Idempotent. */
  close(): Promise<void>;
}
