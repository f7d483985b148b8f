/** A fixed-window counter per client address. Bounded: old windows are dropped. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts a hit; false when the address is over its limit for the current window. */
  take(key: string, now = Date.now()): boolean {
    if (this.#hits.size > 10_000) {
      for (const [k, v] of this.#hits) if (now - v.start >= this.#windowMs) this.#hits.delete(k);
    }
    const entry = this.#hits.get(key);
    if (!entry || now - entry.start >= this.#windowMs) {
      this.#hits.set(key, { start: now, count: 1 });
      return true;
    }
    entry.count++;
    return entry.count <= this.#limit;
  }

  retryAfterSeconds(key: string, now = Date.now()): number {
    const entry = this.#hits.get(key);
    return entry ? Math.max(1, Math.ceil((entry.start + this.#windowMs - now) / 1000)) : 1;
  }
}
