/**
 * The mediasoup engine: the SFU of the design, behind the same seam as werift
 * (engine.ts). mediasoup's ownership tree maps onto onair's:
 *
 *   MediasoupEngine ── WorkerPool (a worker per core)
 *     └─ MediasoupRouter (a channel, placed on the least-loaded worker)
 *          ├─ publishing Router: WebRtcTransport + Producers per WHIP publisher
 *          └─ feeds (feed.ts): a Router + DirectTransport Producers carrying the
 *             channel's source, per set of payload types, consumed by
 *               ├─ PlainTransports → FFmpeg (plain-link.ts)
 *               └─ WebRtcTransports → WHEP viewers (mediasoup-viewer.ts)
 *
 * Closing a parent closes its children. When a worker dies, the channels on it
 * move to another worker: their publishers and viewers end (clients
 * reconnect), the link to FFmpeg is re-attached, and the log says so.
 */
import { OnairError } from '../../../lib/errors.ts';
import type { IceServer } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { MediaSource } from '../../media/source.ts';
import type {
  ChannelRouter,
  PlainRtpOptions,
  PlainRtpTransport,
  PublisherOptions,
  PublisherSession,
  SfuEngine,
  ViewerOptions,
  ViewerSession,
} from '../engine.ts';
import { FanoutRegistry } from '../fanout.ts';
import { planViewer } from '../viewer-plan.ts';
import { Feed } from './feed.ts';
import type { MediasoupModule, Router, Worker } from './mediasoup-api.ts';
import { MediasoupPublisher, negotiationError } from './mediasoup-publisher.ts';
import { MediasoupViewer } from './mediasoup-viewer.ts';
import { MediasoupPlainLink } from './plain-link.ts';
import { feedKey, publishingRouterCodecs, type FeedTrack, type ViewerTrackPlan } from './sdp-translation.ts';
import { WorkerPool } from './worker-pool.ts';

export interface MediasoupEngineOptions {
  log: Logger;
  mediasoup: MediasoupModule;
  workerBin: string;
  workers: number;
  iceServers: IceServer[];
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  singlePort: number | undefined;
  loopbackOnly: boolean;
  silenceTimeoutMs?: number;
  disconnectTimeoutMs?: number;
}

export class MediasoupEngine implements SfuEngine {
  readonly name = 'mediasoup';
  readonly #opts: MediasoupEngineOptions;
  readonly #pool: WorkerPool;
  readonly #routers: Set<MediasoupRouter>;
  #closed = false;

  private constructor(opts: MediasoupEngineOptions, pool: WorkerPool, routers: Set<MediasoupRouter>) {
    this.#opts = opts;
    this.#pool = pool;
    this.#routers = routers;
  }

  /** Starts the workers; throws when they cannot start. */
  static async start(opts: MediasoupEngineOptions): Promise<MediasoupEngine> {
    const routers = new Set<MediasoupRouter>();
    const pool = await WorkerPool.start({
      mediasoup: opts.mediasoup,
      workerBin: opts.workerBin,
      workers: opts.workers,
      log: opts.log,
      loopbackOnly: opts.loopbackOnly,
      publicIp: opts.publicIp,
      portRange: opts.portRange,
      singlePort: opts.singlePort,
      onWorkerDied: (worker) => {
        for (const r of routers) r.workerDied(worker);
      },
    });
    // The pool's death notice reaches the engine's routers: the set is the engine's own.
    return new MediasoupEngine(opts, pool, routers);
  }

  /** Live workers and their process ids (for /healthz). */
  get workers(): { pid: number }[] {
    return this.#pool.workers.map((w) => ({ pid: w.pid }));
  }

  /** CPU time the workers used so far, in ms (user + system): what Node's own figures leave out. */
  async workersCpuMs(): Promise<number> {
    let ms = 0;
    for (const w of this.#pool.workers) {
      const u = await w.getResourceUsage().catch(() => undefined);
      if (u) ms += u.ru_utime + u.ru_stime;
    }
    return ms;
  }

  get workerDeaths(): number {
    return this.#pool.deaths;
  }

  createRouter(channelId: string): ChannelRouter {
    if (this.#closed) throw new OnairError('unavailable', 'the SFU is shutting down');
    const router: MediasoupRouter = new MediasoupRouter(channelId, this.#opts, this.#pool, () =>
      this.#routers.delete(router),
    );
    this.#routers.add(router);
    return router;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#routers]) r.close();
    this.#pool.close();
    await Promise.resolve();
  }
}

/** A channel's scope on one worker: its publishing router, its feeds, and what they serve. */
class MediasoupRouter implements ChannelRouter {
  readonly channelId: string;
  readonly #opts: MediasoupEngineOptions;
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #onClose: () => void;
  readonly #publishers = new Set<MediasoupPublisher>();
  readonly #viewers = new Set<MediasoupViewer>();
  readonly #links = new Set<MediasoupPlainLink>();
  readonly #feeds = new Map<string, Promise<Feed>>();
  readonly #fanouts: FanoutRegistry;
  #worker: Worker | undefined;
  #publishing: Promise<Router> | undefined;
  #closed = false;

  constructor(channelId: string, opts: MediasoupEngineOptions, pool: WorkerPool, onClose: () => void) {
    this.channelId = channelId;
    this.#opts = opts;
    this.#pool = pool;
    this.#log = opts.log.child({ channelId });
    this.#onClose = onClose;
    this.#fanouts = new FanoutRegistry((err) =>
      this.#log.error({ err }, 'forwarding a packet to mediasoup failed'),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The channel's worker: placed on the least-loaded one when first needed. */
  #placedWorker(): Worker {
    if (!this.#worker || this.#worker.died) {
      if (this.#worker) this.#pool.release(this.#worker);
      this.#worker = this.#pool.acquire();
    }
    return this.#worker;
  }

  async #publishingRouter(): Promise<Router> {
    const worker = this.#placedWorker();
    this.#publishing ??= worker.createRouter({ mediaCodecs: publishingRouterCodecs() }).then((r) => {
      this.#pool.placed(r, worker);
      return r;
    });
    const router = await this.#publishing.catch((err: unknown) => {
      this.#publishing = undefined;
      throw err;
    });
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    return router;
  }

  /**
   * The feed for these payload types, fed from `source`, acquired for the caller.
   * The encoder's link and viewers never share one: viewers follow the channel's
   * source on their own schedule (ChannelViewers), the encoder's link its run's.
   */
  async #feedFor(
    use: 'encoder' | 'viewers',
    tracks: readonly FeedTrack[],
    source: MediaSource,
  ): Promise<Feed> {
    const key = `${use}|${feedKey(tracks)}`;
    for (;;) {
      if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
      let pending = this.#feeds.get(key);
      if (!pending) {
        const worker = this.#placedWorker();
        pending = Feed.open(worker, key, tracks, this.#fanouts, this.#log, () => {
          if (this.#feeds.get(key) === pending) this.#feeds.delete(key);
        }).then((feed) => {
          this.#pool.placed(feed.router, worker);
          return feed;
        });
        this.#feeds.set(key, pending);
        pending.catch(() => {
          if (this.#feeds.get(key) === pending) this.#feeds.delete(key);
        });
      }
      const feed = await pending;
      if (feed.closed) continue;
      feed.acquire();
      if (!feed.source) feed.setSource(source);
      return feed;
    }
  }

  async createPublisher(p: PublisherOptions): Promise<PublisherSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const router = await this.#publishingRouter();
    const session = new MediasoupPublisher({
      log: this.#log,
      router,
      transports: this.#pool,
      ...(this.#opts.silenceTimeoutMs !== undefined ? { silenceTimeoutMs: this.#opts.silenceTimeoutMs } : {}),
      ...(this.#opts.disconnectTimeoutMs !== undefined
        ? { disconnectTimeoutMs: this.#opts.disconnectTimeoutMs }
        : {}),
    });
    try {
      await session.negotiate(p);
    } catch (err) {
      session.close('negotiation failed');
      throw negotiationError(err);
    }
    if (this.#closed) {
      session.close('channel stopped');
      throw new OnairError('channel_not_running', 'channel is stopping');
    }
    this.#publishers.add(session);
    session.on('ended', () => this.#publishers.delete(session));
    return session;
  }

  createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const link: MediasoupPlainLink = new MediasoupPlainLink({
      ...opts,
      log: this.#log,
      openFeed: (tracks, source) => this.#feedFor('encoder', tracks, source),
      onClose: () => this.#links.delete(link),
    });
    this.#links.add(link);
    return link;
  }

  async createViewer(v: ViewerOptions): Promise<ViewerSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const plan = planViewer(v.offer, v.summary, v.source);
    const tracks: ViewerTrackPlan[] = [];
    for (const t of [plan.video, plan.audio]) {
      if (t) tracks.push({ kind: t.kind, index: t.index, codec: t.track.codec, offered: t.offered });
    }
    const feed = await this.#feedFor(
      'viewers',
      tracks.map((t) => ({ kind: t.kind, codec: t.codec, payloadType: t.offered.payloadType })),
      v.source,
    );
    const viewer = new MediasoupViewer({
      log: this.#log,
      feed,
      transports: this.#pool,
      ...(this.#opts.disconnectTimeoutMs !== undefined
        ? { disconnectTimeoutMs: this.#opts.disconnectTimeoutMs }
        : {}),
    });
    try {
      await viewer.negotiate(v.offer, tracks, v.source);
    } catch (err) {
      viewer.close('negotiation failed');
      throw negotiationError(err);
    }
    if (this.#closed) {
      viewer.close('channel stopped');
      throw new OnairError('channel_not_running', 'channel is stopping');
    }
    this.#viewers.add(viewer);
    viewer.on('closed', () => this.#viewers.delete(viewer));
    return viewer;
  }

  /**
   * The worker under this channel died (its routers, transports, producers and
   * consumers with it). Publishers and viewers end — their clients reconnect —
   * and the link to FFmpeg moves to another worker.
   */
  workerDied(worker: Worker): void {
    if (this.#closed || this.#worker !== worker) return;
    // The worker's routers closed before this notice: its publishers and viewers have ended already.
    this.#log.warn(
      { pid: worker.pid, links: this.#links.size },
      'the SFU worker of this channel died: publishers and viewers reconnect, the encoder link moves to another worker',
    );
    this.#pool.release(worker);
    this.#worker = undefined;
    this.#publishing = undefined;
    this.#feeds.clear();
    for (const v of [...this.#viewers]) v.close('the SFU worker died; reconnect');
    for (const p of [...this.#publishers]) p.close('the SFU worker died');
    for (const l of this.#links) l.attach();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of [...this.#viewers]) v.close('channel stopped');
    for (const l of [...this.#links]) l.close({ bye: true });
    for (const p of [...this.#publishers]) p.close('channel stopped');
    this.#fanouts.close();
    for (const pending of this.#feeds.values()) pending.then((f) => f.close()).catch(() => undefined);
    this.#feeds.clear();
    this.#publishing?.then((r) => r.close()).catch(() => undefined);
    if (this.#worker) this.#pool.release(this.#worker);
    this.#onClose();
  }
}
