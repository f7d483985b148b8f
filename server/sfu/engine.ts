/**
 * The SFU engine interface, shaped after mediasoup's ownership tree:
 *
 *   SfuEngine (one per process)
 *     └─ ChannelRouter (one per running channel)
 *          ├─ PublisherSession   — a WebRTC publisher (WHIP): a MediaSource
 *          ├─ PlainRtpTransport  — a source's tracks sent as plain RTP to a port on
 *          │                       loopback (FFmpeg's input), like mediasoup's PlainTransport
 *          └─ ViewerSession      — a WebRTC viewer (WHEP): the source's own packets,
 *                                  forwarded (viewer-forwarder.ts), like a mediasoup Consumer
 *
 * Closing a parent closes its children (router-base.ts holds that cascade, and
 * publisher-base.ts and viewer-base.ts the sessions' lifecycle). `werift`
 * implements it in pure TypeScript; a mediasoup engine implements the same shape
 * (router per channel, WebRtcTransport producers, PlainTransport consumers).
 * Engines are made in start-engine.ts only.
 */
import type { ViewerOfferSummary } from '../media/sdp.ts';
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

export interface ViewerOptions {
  /** The viewer's SDP offer (already checked by the WHEP endpoint). */
  offer: string;
  summary: ViewerOfferSummary;
  /** The live source the viewer starts on; its codecs decide the answer's. */
  source: MediaSource;
}

export type ViewerState = 'connecting' | 'connected' | 'closed';

export interface ViewerStats {
  state: ViewerState;
  /** Epoch ms at which the media connection came up. */
  connectedSince: number | undefined;
  packetsSent: number;
  bytesSent: number;
  /** Packets not sent: the viewer could not take them (not connected, over its backlog bound). */
  packetsDropped: number;
  /** Packets the viewer reported lost (NACK); the last 128 sent are kept to resend. */
  packetsNacked: number;
  /** Keyframes asked of the source for this viewer (joins, source changes, its PLI/FIR). */
  keyframeRequests: number;
}

export interface ViewerEvents {
  /** The media connection is up and forwarding has begun. Emitted once. */
  connected: [];
  /** The session ended (DELETE, ICE failure, channel stop, an incompatible source). Emitted once. */
  closed: [reason: string];
}

/** A WebRTC viewer: receives the source it is fed, continuously across sources. */
export interface ViewerSession {
  readonly id: string;
  /** The SDP answer (sendonly, only the source's codecs), with every candidate. */
  readonly answer: string;
  readonly state: ViewerState;
  readonly source: MediaSource | undefined;
  /**
   * Feeds the viewer from another source without renegotiation (sequence numbers
   * and timestamps continue); undefined leaves it waiting. Returns false when the
   * source sends another codec than the one negotiated: the caller ends the session.
   */
  setSource(source: MediaSource | undefined): boolean;
  stats(): ViewerStats;
  on<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void;
  off<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void;
  /** Idempotent; emits `closed` once. */
  close(reason?: string): void;
}

export interface ChannelRouter {
  readonly channelId: string;
  readonly closed: boolean;
  /** Negotiates a WebRTC publisher. Throws MediaError (unsupported_offer, router_closed, sfu_unavailable). */
  createPublisher(opts: PublisherOptions): Promise<PublisherSession>;
  createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport;
  /**
   * Negotiates a WebRTC viewer of `source`. Throws MediaError (unsupported_offer
   * when it cannot receive the source's codecs, router_closed).
   */
  createViewer(opts: ViewerOptions): Promise<ViewerSession>;
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
