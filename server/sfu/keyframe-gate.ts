/**
 * Keyframe requests from many consumers become few requests upstream: a request
 * within `minIntervalMs` of the last one sent is dropped (the keyframe already
 * asked for serves every consumer). Many viewers joining at once cause one PLI.
 */
export class KeyframeGate {
  readonly #send: () => void;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #lastSentAt = -Infinity;
  sent = 0;
  dropped = 0;

  constructor(send: () => void, opts: { minIntervalMs?: number; now?: () => number } = {}) {
    this.#send = send;
    this.#minIntervalMs = opts.minIntervalMs ?? 300;
    this.#now = opts.now ?? Date.now;
  }

  request(): void {
    const now = this.#now();
    if (now - this.#lastSentAt < this.#minIntervalMs) {
      this.dropped++;
      return;
    }
    this.#lastSentAt = now;
    this.sent++;
    this.#send();
  }
}
