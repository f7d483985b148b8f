/** A fixed-window counter per client address. Bounded: old windows are dropped. */
const MAX_KEYS = 10_000;

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
    this.hit(key, now);
    return this.#hits.get(key)!.count <= this.#limit;
  }

  /** Counts a hit without asking. */
  hit(key: string, now = Date.now()): void {
    if (this.#hits.size >= MAX_KEYS) this.#prune(now);
    const entry = this.#hits.get(key);
    if (!entry || now - entry.start >= this.#windowMs) {
      this.#hits.delete(key);
      this.#hits.set(key, { start: now, count: 1 });
      return;
    }
    entry.count++;
  }

  /** True when the address has used up its limit in the current window (counts nothing). */
  isLimited(key: string, now = Date.now()): boolean {
    const entry = this.#hits.get(key);
    return entry !== undefined && now - entry.start < this.#windowMs && entry.count >= this.#limit;
  }

  retryAfterSeconds(key: string, now = Date.now()): number {
    const entry = this.#hits.get(key);
    return entry ? Math.max(1, Math.ceil((entry.start + this.#windowMs - now) / 1000)) : 1;
  }

  #prune(now: number): void {
    for (const [k, v] of this.#hits) if (now - v.start >= this.#windowMs) this.#hits.delete(k);
    // Still full (a flood of distinct addresses): forget the oldest windows first.
    for (const k of this.#hits.keys()) {
      if (this.#hits.size < MAX_KEYS) break;
      this.#hits.delete(k);
    }
  }
}
