/**
 * What every WebRTC viewer shares, whatever the engine: its state (connecting →
 * connected → closed), the `connected` and `closed` events (each once), the
 * connect deadline and the grace period of a disconnected connection
 * (SessionTimers), the shape of its stats, and an idempotent close. The werift
 * and mediasoup viewers keep how they negotiate, send and count.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { MediaSource } from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import type { ViewerEvents, ViewerSession, ViewerState, ViewerStats } from './engine.ts';
import { SessionTimers } from './session-timers.ts';

export interface ViewerTimeouts {
  /** A viewer that does not connect in this time is closed. */
  connectTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
}

/** A viewer's figures, as its engine counts them. */
export type ViewerFigures = Omit<ViewerStats, 'state' | 'connectedSince'>;

export abstract class ViewerBase implements ViewerSession {
  readonly id = randomBytes(16).toString('base64url');
  answer = '';
  state: ViewerState = 'connecting';
  connectedSince: number | undefined;
  protected readonly log: Logger;
  protected readonly timers = new SessionTimers((reason) => this.close(reason));
  readonly #timeouts: ViewerTimeouts;
  readonly #events: TypedEmitter<ViewerEvents>;

  constructor(log: Logger, timeouts: ViewerTimeouts) {
    this.log = log;
    this.#timeouts = timeouts;
    this.#events = new TypedEmitter((err) => log.error({ err }, 'viewer listener failed'));
  }

  abstract get source(): MediaSource | undefined;
  abstract setSource(source: MediaSource | undefined): boolean;
  /** The engine's counts of what was sent to this viewer. */
  protected abstract figures(): ViewerFigures;
  /** What closing lets go of (the transport, the feed); called once, state already `closed`. */
  protected abstract release(reason: string): void;

  /** The answer is made: the connect deadline runs. */
  protected answered(answer: string): void {
    this.answer = answer;
    this.timers.connectDeadline(this.#timeouts.connectTimeoutMs ?? 15_000, () => this.state === 'connecting');
  }

  protected get disconnectTimeoutMs(): number {
    return this.#timeouts.disconnectTimeoutMs ?? 5000;
  }

  /**
   * The media connection is up for the first time: `onConnected` runs with the
   * state already `connected` (forwarding may start), then `connected` is emitted.
   */
  protected connected(onConnected: () => void): void {
    this.state = 'connected';
    this.connectedSince = Date.now();
    onConnected();
    this.#events.emit('connected');
  }

  stats(): ViewerStats {
    return { state: this.state, connectedSince: this.connectedSince, ...this.figures() };
  }

  on<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /** Idempotent; emits `closed` once. */
  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.timers.clear();
    this.release(reason);
    this.#events.emit('closed', reason);
    this.#events.removeAll();
  }
}
