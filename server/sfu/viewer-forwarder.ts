/**
 * What one viewer receives: the source's own packets (no transcoding), with
 * sequence numbers and timestamps rewritten so that the viewer's tracks stay one
 * continuous stream across sources (publisher reconnects, failover). Video
 * starts at a keyframe — asked of the source when the viewer starts and after
 * every source change — so the picture never starts with undecodable frames.
 * Engine-independent: the engine supplies the target that encrypts and sends.
 */
import type { MediaKind, MediaSource } from '../media/source.ts';
import type { SentCodec } from '../media/sdp.ts';
import type { FanoutPacket, FanoutRegistry } from './fanout.ts';
import { KEYFRAME_RETRY_MS } from './keyframe-gate.ts';
import { RtpRewriter } from './rtp-rewriter.ts';

/** Where packets go: the engine's sender for the viewer's track of that kind. */
export interface ForwardTarget {
  /** Sends one packet; false when it was dropped (not connected, or over its backlog bound). */
  send(kind: MediaKind, sequenceNumber: number, timestamp: number, marker: boolean, payload: Buffer): boolean;
}

/** A track the viewer's session negotiated. */
export interface ForwardedTrack {
  kind: MediaKind;
  codec: SentCodec;
}

export interface ForwarderCounters {
  packetsSent: number;
  bytesSent: number;
  packetsDropped: number;
  keyframeRequests: number;
  sourceChanges: number;
}

/** H.264 streams continue only with the same packetization mode. */
function sameCodec(a: SentCodec, b: SentCodec): boolean {
  if (a.name !== b.name || a.clockRate !== b.clockRate) return false;
  if (a.name !== 'H264') return true;
  const mode = (fmtp: string) => /packetization-mode=(\d)/.exec(fmtp)?.[1] ?? '0';
  return mode(a.fmtp) === mode(b.fmtp);
}

class Lane {
  readonly kind: MediaKind;
  readonly codec: SentCodec;
  readonly rewriter: RtpRewriter;
  stop: (() => void) | undefined;
  waitingForKeyframe = false;
  askedAt = -Infinity;

  constructor(track: ForwardedTrack, now: () => number) {
    this.kind = track.kind;
    this.codec = track.codec;
    // Random starting points, as any RTP sender picks them (RFC 3550 §5.1).
    this.rewriter = new RtpRewriter(track.codec.clockRate, {
      now,
      initialSeq: Math.floor(Math.random() * 0x8000),
      initialTs: Math.floor(Math.random() * 0x80000000),
    });
  }
}

export interface ViewerForwarderOptions {
  tracks: readonly ForwardedTrack[];
  target: ForwardTarget;
  fanouts: FanoutRegistry;
  now?: () => number;
  /**
   * While video waits for a keyframe, ask again this often (default 350 ms): the first request
   * may be lost, or ignored (Chrome's encoder honours one keyframe request per 300 ms).
   */
  keyframeRetryMs?: number;
}

export class ViewerForwarder {
  readonly counters: ForwarderCounters = {
    packetsSent: 0,
    bytesSent: 0,
    packetsDropped: 0,
    keyframeRequests: 0,
    sourceChanges: 0,
  };
  readonly #lanes: Lane[];
  readonly #target: ForwardTarget;
  readonly #fanouts: FanoutRegistry;
  readonly #now: () => number;
  readonly #retryMs: number;
  #source: MediaSource | undefined;
  #started = false;
  #closed = false;

  constructor(opts: ViewerForwarderOptions) {
    this.#now = opts.now ?? Date.now;
    this.#lanes = opts.tracks.map((t) => new Lane(t, this.#now));
    this.#target = opts.target;
    this.#fanouts = opts.fanouts;
    this.#retryMs = opts.keyframeRetryMs ?? KEYFRAME_RETRY_MS;
  }

  get source(): MediaSource | undefined {
    return this.#source;
  }

  /** Whether video is held back until the next keyframe. */
  get waitingForKeyframe(): boolean {
    return this.#lanes.some((l) => l.waitingForKeyframe && l.stop !== undefined);
  }

  /** Whether `source` can feed this viewer without renegotiation (same codecs as negotiated). */
  accepts(source: MediaSource): boolean {
    return this.#lanes.every((lane) => {
      const track = source.tracks.find((t) => t.kind === lane.kind);
      return !track || sameCodec(track.codec, lane.codec);
    });
  }

  /**
   * Feeds the viewer from `source` (undefined: nothing for now, the viewer
   * waits). Returns false, changing nothing, when the source sends another codec
   * than the one negotiated: the session cannot continue on it.
   */
  setSource(source: MediaSource | undefined): boolean {
    if (this.#closed) return false;
    if (source === this.#source) return true;
    if (source && !this.accepts(source)) return false;
    if (this.#source) this.counters.sourceChanges++;
    this.#source = source;
    for (const lane of this.#lanes) {
      lane.stop?.();
      lane.stop = undefined;
      lane.rewriter.rebase();
      lane.waitingForKeyframe = lane.kind === 'video';
      lane.askedAt = -Infinity;
      const track = source?.tracks.find((t) => t.kind === lane.kind);
      if (!source || !track) continue;
      lane.stop = this.#fanouts.listen(source, track.id, (p) => this.#forward(lane, p));
    }
    if (this.#started) this.#askForKeyframe();
    return true;
  }

  /** The target can send: forwarding begins (video at the next keyframe). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const lane of this.#lanes) lane.waitingForKeyframe = lane.kind === 'video';
    this.#askForKeyframe();
  }

  /** The viewer lost its picture (PLI or FIR): ask the source for a keyframe. */
  requestKeyframe(): void {
    if (!this.#started || this.#closed || !this.#source) return;
    this.counters.keyframeRequests++;
    this.#source.requestKeyframe();
  }

  #askForKeyframe(): void {
    const now = this.#now();
    let ask = false;
    for (const lane of this.#lanes) {
      if (lane.waitingForKeyframe && lane.stop) {
        lane.askedAt = now;
        ask = true;
      }
    }
    if (ask && this.#source) {
      this.counters.keyframeRequests++;
      this.#source.requestKeyframe();
    }
  }

  #forward(lane: Lane, p: FanoutPacket): void {
    if (!this.#started || this.#closed) return;
    if (p.payload.length === 0) {
      lane.rewriter.skip(p.sequenceNumber);
      return;
    }
    if (lane.waitingForKeyframe) {
      if (!p.keyframe) {
        if (this.#now() - lane.askedAt >= this.#retryMs) this.#askForKeyframe();
        return;
      }
      lane.waitingForKeyframe = false;
    }
    const out = lane.rewriter.map(p.sequenceNumber, p.timestamp);
    if (!out) return;
    if (this.#target.send(lane.kind, out.sequenceNumber, out.timestamp, p.marker, p.payload)) {
      this.counters.packetsSent++;
      this.counters.bytesSent += p.payload.length + 12;
    } else {
      this.counters.packetsDropped++;
    }
  }

  /** Stops forwarding. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of this.#lanes) {
      lane.stop?.();
      lane.stop = undefined;
    }
    this.#source = undefined;
  }
}
