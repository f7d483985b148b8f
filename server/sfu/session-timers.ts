/**
 * The lifecycle clock of a WebRTC session (a publisher or a viewer, on any
 * engine): the connect deadline, the grace period of a disconnected ICE
 * connection, the silence watch, and what each ICE or DTLS state means. A
 * session closes itself through the `close` it passes in; `clear()` (called
 * when it closes) stops everything, after which nothing more is scheduled.
 */
export class SessionTimers {
  readonly #close: (reason: string) => void;
  readonly #timers: NodeJS.Timeout[] = [];
  #disconnect: NodeJS.Timeout | undefined;
  #cleared = false;

  constructor(close: (reason: string) => void) {
    this.#close = close;
  }

  /** Sessions that never connect are dropped, so a bad client cannot hold a channel. */
  connectDeadline(ms: number, connecting: () => boolean): void {
    this.once(ms, () => {
      if (connecting()) this.#close(`ICE did not connect within ${Math.round(ms / 1000)} s`);
    });
  }

  /**
   * Closes the session when `quietSince()` is more than `limitMs` ago, checked
   * every second (or `limitMs`); undefined means there is nothing to judge now.
   */
  watchSilence(
    limitMs: number,
    quietSince: () => number | undefined,
    reason: (seconds: number) => string,
    opts: { unref?: boolean } = {},
  ): void {
    this.every(
      Math.min(1000, limitMs),
      () => {
        const since = quietSince();
        if (since !== undefined && Date.now() - since > limitMs)
          this.#close(reason(Math.round(limitMs / 1000)));
      },
      opts,
    );
  }

  once(ms: number, fn: () => void, opts: { unref?: boolean } = {}): void {
    if (this.#cleared) return;
    const t = setTimeout(fn, ms);
    if (opts.unref) t.unref();
    this.#timers.push(t);
  }

  every(ms: number, fn: () => void, opts: { unref?: boolean } = {}): void {
    if (this.#cleared) return;
    const t = setInterval(fn, ms);
    if (opts.unref) t.unref();
    this.#timers.push(t);
  }

  /**
   * An ICE (or werift connection) state: `connected`/`completed` cancel a
   * pending disconnect and return true; `disconnected` closes the session after
   * `disconnectMs` unless it recovers; `failed`/`closed` close it at once.
   */
  ice(state: string, disconnectMs: number): boolean {
    if (this.#cleared) return false;
    if (state === 'connected' || state === 'completed') {
      if (this.#disconnect) clearTimeout(this.#disconnect);
      this.#disconnect = undefined;
      return true;
    }
    if (state === 'disconnected') {
      this.#disconnect ??= setTimeout(() => this.#close('ICE disconnected'), disconnectMs);
    } else if (state === 'failed' || state === 'closed') {
      this.#close(`ICE ${state}`);
    }
    return false;
  }

  /** A DTLS state: `connected` returns true; `failed`/`closed` close the session. */
  dtls(state: string): boolean {
    if (this.#cleared) return false;
    if (state === 'connected') return true;
    if (state === 'failed' || state === 'closed') this.#close(`DTLS ${state}`);
    return false;
  }

  /** Stops every timer. Idempotent. */
  clear(): void {
    this.#cleared = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.length = 0;
    if (this.#disconnect) clearTimeout(this.#disconnect);
    this.#disconnect = undefined;
  }
}
