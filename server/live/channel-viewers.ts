/**
 * A channel's WebRTC viewers (WHEP): made by the router on the live source,
 * limited in number, re-pointed when the source changes (a reconnecting
 * publisher, later a failover switch) so they continue without renegotiation,
 * kept waiting a while when the source is gone, and ended with the channel.
 */
import { OnairError } from '../../lib/errors.ts';
import type { ViewersStats } from '../../lib/stats.ts';
import type { Logger } from '../log.ts';
import type { ViewerOfferSummary } from '../media/sdp.ts';
import type { MediaSource } from '../media/source.ts';
import type { ChannelRouter, ViewerSession } from '../sfu/engine.ts';

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

  /** A viewer of the live source. Throws publisher_not_live (409), viewer_limit_reached (503). */
  async add(offer: string, summary: ViewerOfferSummary): Promise<ViewerSession> {
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
    });
    return session;
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
    this.#closed = true;
    if (this.#waitTimer) clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
    this.#source = undefined;
  }
}
