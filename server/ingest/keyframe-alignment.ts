/**
 * Multi-bitrate passthrough works only when every rendition has its keyframes
 * at the same instants: segments are cut at keyframes, and a player switches
 * renditions at segment boundaries. This watches each rendition's keyframe
 * timestamps (the encoder's own clock, as RTMP carries it) and says when one
 * rendition has a keyframe that another lacks. Pure.
 */
export interface Misalignment {
  /** The rendition with the keyframe. */
  rendition: string;
  /** The rendition without a matching one. */
  other: string;
  /** The keyframe's timestamp (ms, encoder clock). */
  at: number;
}

export interface KeyframeAlignmentOptions {
  /** How far two keyframes may be apart and still count as aligned (ms). */
  toleranceMs?: number;
  /** Keyframes kept per rendition. */
  keep?: number;
}

export class KeyframeAlignment {
  readonly #tolerance: number;
  readonly #keep: number;
  readonly #keyframes = new Map<string, number[]>();
  /** The latest timestamp seen per rendition (any frame). */
  readonly #latest = new Map<string, number>();
  /** Keyframes already judged, per rendition. */
  readonly #checked = new Map<string, number>();
  misaligned = 0;
  checked = 0;

  constructor(opts: KeyframeAlignmentOptions = {}) {
    this.#tolerance = opts.toleranceMs ?? 40;
    this.#keep = opts.keep ?? 32;
  }

  /** Renditions that take part; a rendition that left is forgotten. */
  remove(rendition: string): void {
    this.#keyframes.delete(rendition);
    this.#latest.delete(rendition);
    this.#checked.delete(rendition);
  }

  /**
   * A video frame of `rendition` at `timestampMs`. Returns the misalignments this
   * frame made certain (a keyframe of one rendition that another, already past
   * that instant, does not have).
   */
  frame(rendition: string, timestampMs: number, keyframe: boolean): Misalignment[] {
    this.#latest.set(rendition, Math.max(this.#latest.get(rendition) ?? -Infinity, timestampMs));
    if (keyframe) {
      const list = this.#keyframes.get(rendition) ?? [];
      list.push(timestampMs);
      if (list.length > this.#keep) list.shift();
      this.#keyframes.set(rendition, list);
    } else if (!this.#keyframes.has(rendition)) {
      this.#keyframes.set(rendition, []);
    }
    return this.#judge();
  }

  #judge(): Misalignment[] {
    const out: Misalignment[] = [];
    const names = [...this.#keyframes.keys()];
    for (const a of names) {
      const list = this.#keyframes.get(a)!;
      const from = this.#checked.get(a) ?? -Infinity;
      for (const t of list) {
        if (t <= from) continue;
        // Judge a keyframe only once every other rendition is clearly past it.
        const ready = names.every((b) => b === a || (this.#latest.get(b) ?? -Infinity) > t + this.#tolerance);
        if (!ready) break;
        this.#checked.set(a, t);
        this.checked++;
        for (const b of names) {
          if (b === a) continue;
          const theirs = this.#keyframes.get(b)!;
          // A rendition that began after this instant has nothing to match it with.
          if (theirs[0] === undefined || theirs[0] > t - this.#tolerance) continue;
          if (!theirs.some((u) => Math.abs(u - t) <= this.#tolerance)) {
            this.misaligned++;
            out.push({ rendition: a, other: b, at: t });
          }
        }
      }
    }
    return out;
  }
}
