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
 * A feed carries one track of each kind. A multi-bitrate encoder's renditions
 * (passthrough-abr) are several video tracks: they reach FFmpeg from Node
 * (plain-transport.ts), as on werift.
 *
 * Closing a parent closes its children. When a worker dies, the channels on it
 * move to another worker: their publishers and viewers end (clients
 * reconnect), the link to FFmpeg is re-attached, and the log says so.
 */
import type { IceServer } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { MediaSource } from '../../media/source.ts';
import type * as sfu from '../engine.ts';
import { PlainTransport } from '../plain-transport.ts';
import { EngineBase, RouterBase, sessionTimeouts } from '../router-base.ts';
import { planViewer } from '../viewer-plan.ts';
import { Feed } from './feed.ts';
import type { MediasoupModule, Router, Worker } from './mediasoup-api.ts';
import { MediasoupPublisher } from './mediasoup-publisher.ts';
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

export class MediasoupEngine extends EngineBase<MediasoupRouter> {
  readonly name = 'mediasoup';
  readonly #opts: MediasoupEngineOptions;
  readonly #pool: WorkerPool;

  private constructor(opts: MediasoupEngineOptions, pool: WorkerPool, routers: Set<MediasoupRouter>) {
    super(routers);
    this.#opts = opts;
    this.#pool = pool;
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

  protected makeRouter(channelId: string, onClose: () => void): MediasoupRouter {
    return new MediasoupRouter(channelId, this.#opts, this.#pool, onClose);
  }

  protected override release(): void {
    this.#pool.close();
  }
}

/** Whether the link carries more than one track of a kind (a multi-bitrate encoder's renditions). */
function severalOfAKind({ source, targets }: sfu.PlainRtpOptions): boolean {
  const kinds = targets.map((t) => source.tracks.find((s) => s.id === t.trackId)?.kind);
  return new Set(kinds).size < kinds.length;
}

/** A channel's scope on one worker: its publishing router, its feeds, and what they serve. */
class MediasoupRouter extends RouterBase<MediasoupPlainLink | PlainTransport> {
  readonly #opts: MediasoupEngineOptions;
  readonly #pool: WorkerPool;
  readonly #feeds = new Map<string, Promise<Feed>>();
  #worker: Worker | undefined;
  #publishing: Promise<Router> | undefined;

  constructor(channelId: string, opts: MediasoupEngineOptions, pool: WorkerPool, onClose: () => void) {
    super(channelId, opts.log.child({ channelId }), onClose, 'forwarding a packet to mediasoup failed');
    this.#opts = opts;
    this.#pool = pool;
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
    this.assertOpen();
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
      this.assertOpen();
      let pending = this.#feeds.get(key);
      if (!pending) {
        const worker = this.#placedWorker();
        pending = Feed.open(worker, key, tracks, this.fanouts, this.log, () => {
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

  async createPublisher(p: sfu.PublisherOptions): Promise<sfu.PublisherSession> {
    this.assertOpen();
    const router = await this.#publishingRouter();
    const session = new MediasoupPublisher({
      log: this.log,
      router,
      transports: this.#pool,
      ...sessionTimeouts(this.#opts),
    });
    return this.admitPublisher(session, () => session.negotiate(p));
  }

  createPlainTransport(opts: sfu.PlainRtpOptions): sfu.PlainRtpTransport {
    this.assertOpen();
    if (severalOfAKind(opts)) return this.adoptTransport((onClose) => new PlainTransport(opts, onClose));
    return this.adoptTransport(
      (onClose) =>
        new MediasoupPlainLink({
          ...opts,
          log: this.log,
          openFeed: (tracks, source) => this.#feedFor('encoder', tracks, source),
          onClose,
        }),
    );
  }

  async createViewer(v: sfu.ViewerOptions): Promise<sfu.ViewerSession> {
    this.assertOpen();
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
    const { disconnectTimeoutMs } = sessionTimeouts(this.#opts);
    const viewer = new MediasoupViewer({
      log: this.log,
      feed,
      transports: this.#pool,
      ...(disconnectTimeoutMs !== undefined ? { disconnectTimeoutMs } : {}),
    });
    return this.admitViewer(viewer, () => viewer.negotiate(v.offer, tracks, v.source));
  }

  /**
   * The worker under this channel died (its routers, transports, producers and
   * consumers with it). Publishers and viewers end — their clients reconnect —
   * and the link to FFmpeg moves to another worker.
   */
  workerDied(worker: Worker): void {
    if (this.closed || this.#worker !== worker) return;
    // The worker's routers closed before this notice: its publishers and viewers have ended already.
    this.log.warn(
      { pid: worker.pid, links: this.transports.size },
      'the SFU worker of this channel died: publishers and viewers reconnect, the encoder link moves to another worker',
    );
    this.#pool.release(worker);
    this.#worker = undefined;
    this.#publishing = undefined;
    this.#feeds.clear();
    this.endSessions('the SFU worker died; reconnect', 'the SFU worker died');
    for (const l of this.transports) if (l instanceof MediasoupPlainLink) l.attach();
  }

  protected override release(): void {
    for (const pending of this.#feeds.values()) pending.then((f) => f.close()).catch(() => undefined);
    this.#feeds.clear();
    this.#publishing?.then((r) => r.close()).catch(() => undefined);
    if (this.#worker) this.#pool.release(this.#worker);
  }
}
