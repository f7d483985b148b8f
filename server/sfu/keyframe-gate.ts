import { emptyRtpView, isKeyframeStart, readRtp } from '../media/rtp.ts';
import type { MediaSource } from '../media/source.ts';

/**
 * Keyframe requests from many consumers become few requests upstream. A request
 * is dropped while the keyframe asked for is still on its way (within
 * `minIntervalMs` of the last request sent, and no keyframe seen since): that
 * keyframe serves every consumer waiting, so many viewers joining at once cause
 * one PLI. Once the keyframe has arrived, the next request goes out (after
 * `floorMs`): a consumer that joined just after it passed must not wait for the
 * interval to run out. A source that never reports keyframes is gated by time
 * alone.
 */
export class KeyframeGate {
  readonly #send: () => void;
  readonly #minIntervalMs: number;
  readonly #floorMs: number;
  readonly #now: () => number;
  #lastSentAt = -Infinity;
  #pending = false;
  sent = 0;
  dropped = 0;

  constructor(send: () => void, opts: { minIntervalMs?: number; floorMs?: number; now?: () => number } = {}) {
    this.#send = send;
    this.#minIntervalMs = opts.minIntervalMs ?? 300;
    this.#floorMs = Math.min(opts.floorMs ?? 100, this.#minIntervalMs);
    this.#now = opts.now ?? Date.now;
  }

  request(): void {
    const now = this.#now();
    const since = now - this.#lastSentAt;
    const answered = !this.#pending;
    if (since < this.#floorMs || (since < this.#minIntervalMs && !answered)) {
      this.dropped++;
      return;
    }
    this.#lastSentAt = now;
    this.#pending = true;
    this.sent++;
    this.#send();
  }

  /** The source saw a keyframe: what was asked for has come. */
  keyframeArrived(): void {
    this.#pending = false;
  }
}

/**
 * A receiver still waiting for a keyframe (the encoder link, a WHEP viewer) asks again this often. The first request is often ignored:
 * the source asked for one a moment before, when it went live and nobody listened yet, and
 * libwebrtc honours one request per 300 ms (measured: Chromium counted the PLI and sent nothing,
 * so FFmpeg waited for the next one, up to a segment later).
 */
export const KEYFRAME_RETRY_MS = 350;

/**
 * A receiver's wait for its first keyframe (the encoder link, on either engine): fed the packets of
 * the video track it receives, it asks again every KEYFRAME_RETRY_MS until a keyframe starts.
 */
export class KeyframeWait {
  readonly #ask: () => void;
  readonly #rtp = emptyRtpView();
  #codec: string | undefined;
  #askedAt = Date.now();

  /** `codec`: the track's codec name (undefined: not video, nothing to wait for). Asked once already. */
  constructor(codec: string | undefined, ask: () => void) {
    this.#codec = codec;
    this.#ask = ask;
  }

  get waiting(): boolean {
    return this.#codec !== undefined;
  }

  saw(packet: Buffer): void {
    if (this.#codec === undefined || !readRtp(packet, this.#rtp)) return;
    if (isKeyframeStart(this.#codec, packet.subarray(this.#rtp.payloadOffset, this.#rtp.payloadEnd)))
      this.#codec = undefined;
    else if (Date.now() - this.#askedAt >= KEYFRAME_RETRY_MS) {
      this.#askedAt = Date.now();
      this.#ask();
    }
  }
}

/**
 * Watches a source's video track from now until a keyframe starts, calling `ask` every
 * KEYFRAME_RETRY_MS meanwhile (a receiver that has just started: mediasoup's own consumers retry
 * only after 1 s). Returns the stop (idempotent); it stops by itself once a keyframe passed.
 */
export function untilKeyframe(source: MediaSource, ask: () => void): () => void {
  const video = source.tracks.find((t) => t.kind === 'video');
  if (!video) return () => undefined;
  const wait = new KeyframeWait(video.codec.name, ask);
  let stopped = false;
  const unsubscribe = source.subscribe(video.id, (packet) => {
    wait.saw(packet);
    if (!wait.waiting) queueMicrotask(stop);
  });
  function stop(): void {
    if (stopped) return;
    stopped = true;
    unsubscribe();
  }
  return stop;
}
