/**
 * A source is what feeds a channel: a WebRTC publisher today; a failover
 * switcher over a primary and a backup publisher, an RTMP or an SRT encoder
 * next. Whatever the protocol, a source hands out RTP per track (decrypted,
 * with the payload type the track declares), answers keyframe requests, counts
 * what it received, and says once when it has ended.
 *
 * Consumers (the plain-RTP link to FFmpeg, WHEP viewers, recorders) only ever
 * see this interface; they are made by the SFU engine (server/sfu/engine.ts).
 */
export type MediaKind = 'video' | 'audio';

export interface RtpCodec {
  kind: MediaKind;
  /** Upper-case encoding name: H264, VP8, OPUS, MPEG4-GENERIC. */
  name: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  /** fmtp parameters as negotiated, e.g. `packetization-mode=1;profile-level-id=42e01f`. */
  fmtp: string;
}

export interface SourceTrack {
  /** Stable within the source: 'video', 'audio', or a rendition name for multi-bitrate sources. */
  id: string;
  kind: MediaKind;
  codec: RtpCodec;
  /** The SSRC the packets carry, once known. */
  ssrc: number | undefined;
}

/** What a consumer needs to know to receive a source: its tracks. Immutable. */
export interface SourceDescription {
  readonly tracks: readonly SourceTrack[];
}

/** Called for every RTP packet of a track. The buffer is only valid during the call. */
export type RtpListener = (packet: Buffer) => void;

export interface TrackStats {
  trackId: string;
  kind: MediaKind;
  codec: string;
  packets: number;
  bytes: number;
  packetsLost: number;
}

export interface SourceStats {
  tracks: TrackStats[];
  /** Picture size and frame rate read from the video bitstream, when known. */
  width: number | undefined;
  height: number | undefined;
  fps: number | undefined;
  /** Transport counters of protocols that recover losses themselves (SRT). */
  transport?: { packetsLost: number; packetsRetransmitted: number; rttMs: number | undefined };
  /** A multi-bitrate source's renditions (video tracks), largest first. */
  renditions?: {
    name: string;
    width: number | null;
    height: number | null;
    fps: number | null;
    bytes: number;
  }[];
  /** Problems the publisher should fix (misaligned keyframes across renditions). */
  warnings?: string[];
  /** The encoder's keyframe interval (ms), where the protocol shows it. */
  gopMs?: number | undefined;
}

export type SourceKind = 'webrtc' | 'failover' | 'rtmp' | 'srt' | 'slate';
export type SourceState = 'connecting' | 'live' | 'ended';

export interface SourceEvents {
  /** Media can flow: tracks are known. Emitted once. */
  live: [];
  /** The source is gone (its publisher left, failed, went silent, or close()). Emitted once. */
  ended: [reason: string];
  /** Something the publisher should fix; the channel reports it as an event. */
  warning: [kind: SourceWarning, message: string];
}

export type SourceWarning = 'keyframes_misaligned';

export interface MediaSource extends SourceDescription {
  readonly id: string;
  readonly kind: SourceKind;
  /** The SFU engine or protocol stack behind it: 'werift', 'mediasoup', 'ffmpeg', … */
  readonly engine: string;
  readonly state: SourceState;
  /** Epoch ms at which it went live. */
  readonly liveSince: number | undefined;
  /** Fan-out: every consumer subscribes to the tracks it wants; returns the unsubscribe function. */
  subscribe(trackId: string, listener: RtpListener): () => void;
  /** Asks the encoder behind the source for a keyframe (rate-limited by the source). */
  requestKeyframe(): void;
  stats(): SourceStats;
  on<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void;
  off<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void;
  /** Idempotent; emits `ended` once. */
  close(reason?: string): void;
}

/** The description of a source as plain data: a snapshot consumers may keep. */
export function describeSource(source: SourceDescription): SourceDescription {
  return Object.freeze({
    tracks: Object.freeze(
      source.tracks.map((t) => Object.freeze({ ...t, codec: Object.freeze({ ...t.codec }) })),
    ),
  });
}

export function videoTrack(source: SourceDescription): SourceTrack | undefined {
  return source.tracks.find((t) => t.kind === 'video');
}
