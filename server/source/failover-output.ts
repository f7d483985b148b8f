/**
 * The failover switcher's output: one continuous RTP stream per track (one
 * SSRC, no gap in sequence numbers, timestamps that only move forward) whatever
 * input feeds it, and the consumers that receive it. A session is a set of
 * codecs; new codecs make new streams (and the encoder starts anew on them).
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { MediaKind, RtpCodec, RtpListener, SourceTrack } from '../media/source.ts';
import type { Input } from './failover-input.ts';
import type { InputName, SessionCodecs } from './failover-types.ts';
import { RtpContinuity } from './rtp-continuity.ts';

/** Shortest steps between output timestamps across a switch: one frame at 30 fps, one 20 ms audio frame. */
const MIN_STEP_SECONDS = { video: 1 / 30, audio: 0.02 };

export class FailoverOutput {
  readonly #log: Logger;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  #session: SessionCodecs | undefined;
  #out: Partial<Record<MediaKind, RtpContinuity>> = {};
  #tracks: readonly SourceTrack[] = [];
  /** The audio of the active input still has to be placed on the output timeline. */
  #audioStart: { input: InputName; driftMs: number } | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The codecs the output carries while it is active (every input must send the same). */
  get session(): SessionCodecs | undefined {
    return this.#session;
  }

  get tracks(): readonly SourceTrack[] {
    return this.#tracks;
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    // Before the first input is on air the tracks are not known yet: 'video' and 'audio' are always asked for.
    const kind: MediaKind | undefined =
      trackId === 'video' ? 'video' : trackId === 'audio' ? 'audio' : undefined;
    if (!kind) throw new RangeError(`the channel's source has no track ${trackId}`);
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  /** Whether `input` sends what the session carries (else a new session starts). */
  sameCodecs(input: Input): boolean {
    const s = this.#session;
    if (!s || !input.video) return false;
    return s.video.name === input.video.codec.name && (s.audio === undefined) === (input.audio === undefined);
  }

  /** New codecs: new output streams (and the encoder starts anew on them). */
  startSession(input: Input): void {
    if (!input.video) throw new RangeError('an input without video');
    this.#session = {
      video: { ...input.video.codec },
      audio: input.audio ? { ...input.audio.codec } : undefined,
    };
    const make = (codec: RtpCodec) =>
      new RtpContinuity({
        ssrc: randomInt(1, 0xffffffff),
        payloadType: codec.payloadType,
        clockRate: codec.clockRate,
        firstSequenceNumber: randomInt(0, 0x8000),
        firstTimestamp: randomInt(0, 0x7fffffff),
      });
    this.#out = { video: make(this.#session.video) };
    if (this.#session.audio) this.#out.audio = make(this.#session.audio);
    const tracks: SourceTrack[] = [
      { id: 'video', kind: 'video', codec: this.#session.video, ssrc: this.#out.video!.ssrc },
    ];
    if (this.#session.audio)
      tracks.push({ id: 'audio', kind: 'audio', codec: this.#session.audio, ssrc: this.#out.audio!.ssrc });
    this.#tracks = tracks;
  }

  /**
   * `input` goes on air from its keyframe that arrived at `keyArrival`: placed on the
   * output timeline by its arrival time, never before what went out already. Its audio
   * is placed with its first packet, as far behind as the video had to be pushed.
   */
  startInput(input: InputName, keyArrival: number): void {
    const video = this.#out.video!;
    const wallTs = video.timestampAt(keyArrival);
    let driftMs = 0;
    if (wallTs !== undefined) {
      const minStep = Math.round(MIN_STEP_SECONDS.video * video.clockRate);
      video.startInput(wallTs, minStep);
      const lastTs = video.lastTimestamp!;
      const step = (wallTs - lastTs) | 0;
      if (step < minStep) driftMs = ((minStep - step) * 1000) / video.clockRate;
    }
    this.#audioStart = { input, driftMs };
  }

  /** A packet of the input on air, rewritten into the output stream and handed to every consumer. */
  emit(input: InputName, kind: MediaKind, packet: Buffer, arrival: number): void {
    const out = this.#out[kind];
    if (!out) return;
    if (kind === 'audio' && this.#audioStart?.input === input) {
      const at = out.timestampAt(arrival + this.#audioStart.driftMs);
      if (at !== undefined) out.startInput(at, Math.round(MIN_STEP_SECONDS.audio * out.clockRate));
      this.#audioStart = undefined;
    }
    const rewritten = out.rewrite(packet, arrival);
    if (!rewritten) return;
    for (const l of this.#listeners[kind]) {
      try {
        l(rewritten);
      } catch (err) {
        this.#log.error({ err }, 'RTP consumer failed');
      }
    }
  }

  /** No consumer any more (the switcher closes). */
  close(): void {
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
  }
}
