/**
 * A channel's WebRTC viewers (WHEP): made by the router on the live source,
 * limited in number, re-pointed when the source changes (a reconnecting
 * publisher, later a failover switch) so they continue without renegotiation,
 * kept waiting a while when the source is gone, and ended with the channel —
 * or alone, when the access it was admitted with ends (`recheck()` after the
 * channel's access changed, and a timer at its token's expiry).
 */
import { OnairError } from '../../lib/errors.ts';
import type { ViewersStats } from '../../lib/stats.ts';
import type { Logger } from '../log.ts';
import type { ViewerOfferSummary } from '../media/sdp.ts';
import type { MediaSource } from '../media/source.ts';
import type { ChannelRouter, ViewerSession } from '../sfu/engine.ts';

/** A viewer's right to watch, checked again whenever it may have ended. */
export interface ViewerAccess {
  /** When it ends by itself (its token's expiry, ms since the epoch), if ever. */
  expiresAt?: number;
  /** Why the viewer may no longer watch, or undefined while it may. */
  lost(): string | undefined;
}

/** setTimeout's longest delay (about 24.8 days); a later expiry re-arms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface ChannelViewersOptions {
  router: ChannelRouter;
  maxViewers: number;
  /** After the source ends, viewers wait this long for the next one; then their sessions end. */
  waitForSourceMs?: number;
  log: Logger;
}

export class ChannelViewers {
  readonly #opts: ChannelViewersOptions;
  readonly #sessions = new Map<string, ViewerSession>();
  readonly #access = new Map<string, { access: ViewerAccess; timer?: NodeJS.Timeout }>();
  /** Closed sessions' counters, so totals survive them. */
  readonly #ended = { packetsSent: 0, packetsDropped: 0, packetsNacked: 0, keyframeRequests: 0 };
  #sessionsTotal = 0;
  #negotiating = 0;
  #source: MediaSource | undefined;
  #waitTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: ChannelViewersOptions) {
    this.#opts = opts;
  }

  get count(): number {
    return this.#sessions.size;
  }

  find(sessionId: string): ViewerSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /**
   * A viewer of the live source, watching while `access` lasts. Throws
   * publisher_not_live (409), viewer_limit_reached (503).
   */
  async add(offer: string, summary: ViewerOfferSummary, access?: ViewerAccess): Promise<ViewerSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const source = this.#source;
    if (!source) {
      throw new OnairError(
        'publisher_not_live',
        'no publisher is live on this channel yet; retry when it goes live',
      );
    }
    if (this.#sessions.size + this.#negotiating >= this.#opts.maxViewers) {
      throw new OnairError(
        'viewer_limit_reached',
        `the channel has its maximum of ${this.#opts.maxViewers} real-time viewers; retry later or watch over HLS`,
      );
    }
    this.#negotiating++;
    let session: ViewerSession;
    try {
      session = await this.#opts.router.createViewer({ offer, summary, source });
    } finally {
      this.#negotiating--;
    }
    if (this.#closed) {
      session.close('channel stopped');
      throw new OnairError('channel_not_running', 'channel is stopping');
    }
    // The source may have changed while the offer was negotiated.
    if (this.#source !== source && !session.setSource(this.#source)) {
      session.close('the publisher changed codecs');
      throw new OnairError('publisher_not_live', 'the publisher changed while connecting; retry');
    }
    this.#sessions.set(session.id, session);
    this.#sessionsTotal++;
    session.on('closed', (reason) => {
      this.#opts.log.debug({ viewerId: session.id, reason }, 'viewer session ended');
      const s = session.stats();
      this.#ended.packetsSent += s.packetsSent;
      this.#ended.packetsDropped += s.packetsDropped;
      this.#ended.packetsNacked += s.packetsNacked;
      this.#ended.keyframeRequests += s.keyframeRequests;
      this.#sessions.delete(session.id);
      clearTimeout(this.#access.get(session.id)?.timer);
      this.#access.delete(session.id);
    });
    if (access) {
      this.#access.set(session.id, { access });
      // The access may have changed while the offer was negotiated.
      this.#check(session.id);
      if (!this.#sessions.has(session.id))
        throw new OnairError('forbidden', 'your access to the channel ended while connecting');
    }
    return session;
  }

  /** Ends the sessions whose access ended (the channel's access changed, or the playback secret). */
  recheck(): void {
    for (const id of [...this.#access.keys()]) this.#check(id);
  }

  /** Ends the session if its access ended; else arms the timer for its expiry. */
  #check(id: string): void {
    const entry = this.#access.get(id);
    if (!entry) return;
    const reason = entry.access.lost();
    if (reason !== undefined) {
      this.#sessions.get(id)?.close(reason);
      return;
    }
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const { expiresAt } = entry.access;
    // Past its expiry and still allowed: the channel no longer needs the token.
    if (expiresAt === undefined || expiresAt <= Date.now()) return;
    const delay = Math.min(expiresAt - Date.now(), MAX_DELAY_MS);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#check(id);
    }, delay);
    entry.timer.unref();
  }

  /**
   * The channel's live source, or undefined when it ended. Viewers move to a new
   * source without renegotiation; one whose codecs differ ends their sessions
   * (players reconnect). Without a source, viewers wait, then end.
   */
  setSource(source: MediaSource | undefined): void {
    if (this.#closed || source === this.#source) return;
    this.#source = source;
    if (this.#waitTimer) clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
    for (const s of [...this.#sessions.values()]) {
      if (!s.setSource(source)) s.close('the new publisher sends other codecs; reconnect to receive them');
    }
    if (!source && this.#sessions.size > 0) {
      const wait = this.#opts.waitForSourceMs ?? 30_000;
      this.#waitTimer = setTimeout(() => {
        this.#waitTimer = undefined;
        this.closeAll(`no publisher came back within ${Math.round(wait / 1000)} s`);
      }, wait);
      this.#waitTimer.unref();
    }
  }

  /** Ends every session (the channel was reset); new viewers may still come. */
  closeAll(reason: string): void {
    for (const s of [...this.#sessions.values()]) s.close(reason);
  }

  stats(): ViewersStats {
    const totals = { ...this.#ended };
    let connected = 0;
    for (const session of this.#sessions.values()) {
      const s = session.stats();
      if (s.state === 'connected') connected++;
      totals.packetsSent += s.packetsSent;
      totals.packetsDropped += s.packetsDropped;
      totals.packetsNacked += s.packetsNacked;
      totals.keyframeRequests += s.keyframeRequests;
    }
    return {
      count: this.#sessions.size,
      connected,
      limit: this.#opts.maxViewers,
      sessions: this.#sessionsTotal,
      ...totals,
    };
  }

  /** Ends every session and takes no more. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.closeAll('channel stopped');
    for (const entry of this.#access.values()) clearTimeout(entry.timer);
    this.#access.clear();
    this.#closed = true;
    if (this.#waitTimer) clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
    this.#source = undefined;
  }
}
