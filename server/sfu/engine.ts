/**
 * The SFU engine interface. A channel (the hub) owns one publisher session and
 * fans its RTP out to consumers: FFmpeg today, WHEP viewers and recorders later.
 * `werift` implements it in pure TypeScript; a mediasoup engine (router per
 * channel, producers, PlainTransport to FFmpeg) implements the same shape.
 */
export type MediaKind = 'video' | 'audio';

export interface RtpCodec {
  kind: MediaKind;
  /** Upper-case encoding name: H264, VP8, OPUS. */
  name: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  fmtp: string;
}

/** Called for every RTP packet of a track, already decrypted. Do not keep the buffer. */
export type RtpListener = (packet: Buffer) => void;

export interface TrackStats {
  kind: MediaKind;
  codec: string;
  packets: number;
  bytes: number;
  packetsLost: number;
}

export interface PublisherSessionEvents {
  connected: [];
  /** The session ended (by DELETE, ICE failure, silence or close()). */
  closed: [reason: string];
}

export interface PublisherSession {
  readonly id: string;
  readonly engine: string;
  readonly answer: string;
  readonly codecs: { video: RtpCodec; audio: RtpCodec | undefined };
  readonly state: 'connecting' | 'connected' | 'closed';
  readonly connectedAt: number | undefined;
  /** Fan-out: every consumer subscribes; returns the unsubscribe function. */
  subscribe(kind: MediaKind, listener: RtpListener): () => void;
  requestKeyframe(): void;
  stats(): TrackStats[];
  on<E extends keyof PublisherSessionEvents>(
    event: E,
    listener: (...args: PublisherSessionEvents[E]) => void,
  ): void;
  off<E extends keyof PublisherSessionEvents>(
    event: E,
    listener: (...args: PublisherSessionEvents[E]) => void,
  ): void;
  /** Idempotent; emits `closed` once. */
  close(reason?: string): void;
}

export interface PublisherOptions {
  offer: string;
  videoCodec: 'H264' | 'VP8';
  withAudio: boolean;
  /** Bitrate hints for the publisher, in kbit/s. */
  bitrate: { min: number; start: number; max: number };
}

export interface SfuEngine {
  readonly name: string;
  createPublisher(opts: PublisherOptions): Promise<PublisherSession>;
  close(): Promise<void>;
}
