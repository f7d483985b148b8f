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
import { TypedEmitter } from './typed-emitter.ts';

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

/** What a stream counted, for stats: `lost` from sequence numbers where the source tracks them. */
export interface TrackCount {
  packets: number;
  bytes: number;
  lost?: number;
}

/** Pure: per-track stats of a source's tracks from its counts per kind. */
export function trackStats(
  tracks: readonly SourceTrack[],
  counts: Readonly<Record<MediaKind, TrackCount>>,
): TrackStats[] {
  return tracks.map((t) => {
    const c = counts[t.kind];
    return {
      trackId: t.id,
      kind: t.kind,
      codec: t.codec.name,
      packets: c.packets,
      bytes: c.bytes,
      packetsLost: c.lost ?? 0,
    };
  });
}

export interface SourceBaseOptions {
  /** A throwing `on()` listener is reported here (the emitter never throws). */
  onListenerError?: (err: unknown) => void;
  /**
   * A throwing RTP consumer is reported here, and the others still get the
   * packet; without it, the error reaches the code that delivered the packet.
   */
  onConsumerError?: (err: unknown) => void;
}

/**
 * What every source shares, whatever the protocol: its state (connecting →
 * live → ended), the `live` and `ended` events (each once), the fan-out of each
 * track's packets to its subscribers, and an idempotent close. Subclasses say
 * how media arrives (`deliver`), when they are live (`goneLive`) and what
 * closing releases (`release`).
 */
export abstract class SourceBase<
  Events extends SourceEvents & { [K in keyof Events]: unknown[] } = SourceEvents,
> {
  abstract readonly id: string;
  abstract readonly kind: SourceKind;
  abstract readonly engine: string;
  abstract readonly tracks: readonly SourceTrack[];
  state: SourceState = 'connecting';
  /** Epoch ms (or the source's own clock) at which it went live. */
  liveSince: number | undefined;
  protected readonly events: TypedEmitter<Events>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly #onConsumerError: ((err: unknown) => void) | undefined;

  constructor(opts: SourceBaseOptions = {}) {
    this.events = new TypedEmitter<Events>(opts.onListenerError);
    this.#onConsumerError = opts.onConsumerError;
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    const kind = this.tracks.find((t) => t.id === trackId)?.kind;
    if (!kind) throw new RangeError(this.noTrack(trackId));
    const set = this.#listeners[kind];
    set.add(listener);
    return () => set.delete(listener);
  }

  /** How many consumers a track's packets go to. */
  listenerCount(trackId: string): number {
    const kind = this.tracks.find((t) => t.id === trackId)?.kind;
    return kind ? this.#listeners[kind].size : 0;
  }

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    this.events.on(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    this.events.off(event, listener);
  }

  /** Idempotent: releases what the source holds, then emits `ended` once. */
  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.release(reason);
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    (this.events as TypedEmitter<SourceEvents>).emit('ended', reason);
    this.events.removeAll();
  }

  /** The message of the RangeError a subscription to an unknown track throws. */
  protected noTrack(trackId: string): string {
    return `${this.id} has no track ${trackId}`;
  }

  /** Hands one RTP packet of a track's kind to every consumer of it. */
  protected deliver(kind: MediaKind, packet: Buffer): void {
    const onError = this.#onConsumerError;
    for (const l of this.#listeners[kind]) {
      if (!onError) {
        l(packet);
        continue;
      }
      try {
        l(packet);
      } catch (err) {
        onError(err);
      }
    }
  }

  /** Media flows: `live` state, `liveSince`, and the `live` event. */
  protected goneLive(at = Date.now()): void {
    this.state = 'live';
    this.liveSince = at;
    (this.events as TypedEmitter<SourceEvents>).emit('live');
  }

  /** What closing lets go of (timers, sockets, peer connections); called once, state already `ended`. */
  protected release(_reason: string): void {}
}
