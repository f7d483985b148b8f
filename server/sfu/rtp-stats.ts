/** Per-stream RTP counters: packets, bytes, and loss from sequence numbers (RFC 3550 A.3, simplified). */
export class RtpStreamCounter {
  packets = 0;
  bytes = 0;
  #baseSeq = -1;
  #cycles = 0;
  #maxSeq = 0;

  add(seq: number, size: number): void {
    this.packets++;
    this.bytes += size;
    if (this.#baseSeq < 0) {
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      return;
    }
    const delta = (seq - this.#maxSeq + 0x10000) % 0x10000;
    if (delta > 0 && delta < 0x8000) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
  }

  get expected(): number {
    return this.#baseSeq < 0 ? 0 : this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }

  /** Never negative: duplicates and retransmissions can exceed the expected count. */
  get lost(): number {
    return Math.max(0, this.expected - this.packets);
  }
}
