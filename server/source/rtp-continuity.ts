/**
 * One output RTP stream made of several inputs in turn: the receiver sees one
 * SSRC, sequence numbers without a gap and timestamps that only move forward,
 * whichever input is feeding it. Each switch maps the new input's numbering
 * onto the output's: sequence numbers continue at the next number, and the
 * timestamp continues at the output position the switch is given. Pure.
 */
import { readRtpHeader, rewriteRtp } from '../media/rtp.ts';

export interface ContinuityOptions {
  ssrc: number;
  payloadType: number;
  clockRate: number;
  /** Where the output starts (random in practice). */
  firstSequenceNumber?: number;
  firstTimestamp?: number;
}

interface Mapping {
  seqOffset: number;
  tsOffset: number;
}

export class RtpContinuity {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly clockRate: number;
  #mapping: Mapping | undefined;
  /** The input packet the current mapping starts from has not been seen yet. */
  #pendingStart: { timestamp: number } | undefined;
  #lastSeq: number | undefined;
  #lastTs: number | undefined;
  /** Wall clock (ms) at which the last output packet's media arrived. */
  #lastArrival: number | undefined;
  readonly #firstSeq: number;
  readonly #firstTs: number;
  packets = 0;

  constructor(opts: ContinuityOptions) {
    this.ssrc = opts.ssrc >>> 0;
    this.payloadType = opts.payloadType;
    this.clockRate = opts.clockRate;
    this.#firstSeq = (opts.firstSequenceNumber ?? 0) & 0xffff;
    this.#firstTs = (opts.firstTimestamp ?? 0) >>> 0;
  }

  get lastTimestamp(): number | undefined {
    return this.#lastTs;
  }

  get lastArrival(): number | undefined {
    return this.#lastArrival;
  }

  /**
   * The next packet passed to `rewrite()` starts a new input: it gets the next
   * sequence number and the output timestamp `timestamp` (clamped so time never
   * goes back: at least `minStepTicks` after the last output packet).
   */
  startInput(timestamp: number, minStepTicks: number): void {
    let ts = timestamp >>> 0;
    if (this.#lastTs !== undefined) {
      const step = (ts - this.#lastTs) | 0; // signed distance on the 32-bit circle
      if (step < minStepTicks) ts = (this.#lastTs + minStepTicks) >>> 0;
    }
    this.#pendingStart = { timestamp: ts };
    this.#mapping = undefined;
  }

  /** Output timestamp that lies `ms` after the last output packet's arrival at `arrival`. */
  timestampAt(arrival: number): number | undefined {
    if (this.#lastTs === undefined || this.#lastArrival === undefined) return undefined;
    return (this.#lastTs + Math.round(((arrival - this.#lastArrival) * this.clockRate) / 1000)) >>> 0;
  }

  /** The packet as the output carries it; undefined when it is not RTP. */
  rewrite(packet: Uint8Array, arrival: number): Buffer | undefined {
    const h = readRtpHeader(packet);
    if (!h) return undefined;
    if (!this.#mapping) {
      const outSeq = this.#lastSeq === undefined ? this.#firstSeq : (this.#lastSeq + 1) & 0xffff;
      const outTs =
        this.#pendingStart?.timestamp ?? (this.#lastTs === undefined ? this.#firstTs : this.#lastTs);
      this.#mapping = {
        seqOffset: (outSeq - h.sequenceNumber) & 0xffff,
        tsOffset: (outTs - h.timestamp) >>> 0,
      };
      this.#pendingStart = undefined;
    }
    const seq = (h.sequenceNumber + this.#mapping.seqOffset) & 0xffff;
    const ts = (h.timestamp + this.#mapping.tsOffset) >>> 0;
    // Reordered or retransmitted packets keep their place; only newer ones move the end forward.
    if (this.#lastSeq === undefined || ((seq - this.#lastSeq) & 0xffff) < 0x8000) {
      this.#lastSeq = seq;
      this.#lastTs = ts;
      this.#lastArrival = arrival;
    }
    this.packets++;
    return rewriteRtp(packet, {
      sequenceNumber: seq,
      timestamp: ts,
      ssrc: this.ssrc,
      payloadType: this.payloadType,
    });
  }
}
