/**
 * Sequence numbers and timestamps for one outgoing track, continuous across the
 * streams that feed it. A viewer's track outlives its source: the publisher
 * reconnects (new SSRC, new random sequence and timestamp bases), a failover
 * switcher moves to the backup. The receiver must see one stream with no jump
 * it would read as loss or as a huge gap in time, so each new input stream is
 * re-based: its first packet follows the last one sent (sequence + 1, timestamp
 * + the wall-clock time since then), and the rest keep their offsets from it.
 * Pure: the clock is injected.
 */
import { seqNewer } from '../media/rtp.ts';

export interface RewrittenRtp {
  sequenceNumber: number;
  timestamp: number;
}

export class RtpRewriter {
  readonly #clockRate: number;
  readonly #now: () => number;
  #started = false;
  #rebase = true;
  #seqOffset = 0;
  #tsOffset = 0;
  /** The newest input sequence number of the current stream, and where it started. */
  #highestIn = 0;
  #baseIn = 0;
  /** Packets older than this one were skipped around: too late to place. */
  #lastSkipped: number | undefined;
  #lastOutSeq = 0;
  #lastOutTs = 0;
  #lastOutAt = 0;
  /** The result object, reused: read it before the next call. */
  readonly #out: RewrittenRtp = { sequenceNumber: 0, timestamp: 0 };

  constructor(clockRate: number, opts: { now?: () => number; initialSeq?: number; initialTs?: number } = {}) {
    this.#clockRate = clockRate;
    this.#now = opts.now ?? Date.now;
    if (opts.initialSeq !== undefined) this.#lastOutSeq = (opts.initialSeq - 1) & 0xffff;
    if (opts.initialTs !== undefined) this.#lastOutTs = opts.initialTs >>> 0;
  }

  /** The next packet starts a new input stream (another source, another SSRC). */
  rebase(): void {
    this.#rebase = true;
  }

  /** Whether the next packet will start a new input stream. */
  get rebasing(): boolean {
    return this.#rebase;
  }

  /**
   * The outgoing sequence number and timestamp of an input packet, or undefined
   * when it must be dropped (older than the stream's first packet, or than a
   * packet skipped since: sending it would reuse a sequence number).
   */
  map(seq: number, ts: number): RewrittenRtp | undefined {
    if (this.#rebase) {
      const now = this.#now();
      if (this.#started) {
        // Continue where the last stream stopped, as much later in media time as in wall time.
        const elapsed = Math.max(1, Math.round(((now - this.#lastOutAt) * this.#clockRate) / 1000));
        this.#seqOffset = (this.#lastOutSeq + 1 - seq) & 0xffff;
        this.#tsOffset = (this.#lastOutTs + elapsed - ts) >>> 0;
      } else {
        this.#seqOffset = (this.#lastOutSeq + 1 - seq) & 0xffff;
        this.#tsOffset = (this.#lastOutTs - ts) >>> 0;
      }
      this.#started = true;
      this.#rebase = false;
      this.#highestIn = seq;
      this.#baseIn = seq;
      this.#lastSkipped = undefined;
      this.#lastOutAt = now;
    } else if (seqNewer(seq, this.#highestIn)) {
      this.#highestIn = seq;
      this.#lastOutAt = this.#now();
    } else if (
      seqNewer(this.#baseIn, seq) ||
      (this.#lastSkipped !== undefined && seqNewer(this.#lastSkipped, seq))
    ) {
      return undefined;
    } else {
      // A reordered or retransmitted packet of the current stream keeps its place.
      this.#out.sequenceNumber = (seq + this.#seqOffset) & 0xffff;
      this.#out.timestamp = (ts + this.#tsOffset) >>> 0;
      return this.#out;
    }
    this.#lastOutSeq = (seq + this.#seqOffset) & 0xffff;
    this.#lastOutTs = (ts + this.#tsOffset) >>> 0;
    this.#out.sequenceNumber = this.#lastOutSeq;
    this.#out.timestamp = this.#lastOutTs;
    return this.#out;
  }

  /**
   * An input packet that is deliberately not sent (padding only): later packets
   * move down by one, so the receiver sees no gap it would ask to be resent.
   */
  skip(seq: number): void {
    if (this.#rebase || !seqNewer(seq, this.#highestIn)) return;
    this.#highestIn = seq;
    this.#lastSkipped = seq;
    this.#seqOffset = (this.#seqOffset - 1) & 0xffff;
  }
}
