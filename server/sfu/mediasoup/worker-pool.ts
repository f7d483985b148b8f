/**
 * mediasoup workers: one per core by default, each a C++ process. Channels are
 * placed on the least-loaded live worker. A worker that dies is an event: the
 * pool tells its owner (the engine, which tells the channels placed on it) and
 * starts a replacement, with backoff.
 */
import { networkInterfaces } from 'node:os';
import { MediaError } from '../../media/errors.ts';
import type { Logger } from '../../log.ts';
import type {
  MediasoupModule,
  Router,
  TransportListenInfo,
  WebRtcServer,
  WebRtcTransport,
  Worker,
} from './mediasoup-api.ts';

export interface WorkerPoolOptions {
  mediasoup: MediasoupModule;
  workerBin: string;
  workers: number;
  log: Logger;
  loopbackOnly: boolean;
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  /** One port per worker from here (mediasoup's WebRtcServer); undefined: a port per transport. */
  singlePort: number | undefined;
  /** Called when a worker died, after its routers closed. */
  onWorkerDied: (worker: Worker, error: Error) => void;
}

/** Makes the WebRTC transports of a router, with the configured addresses and ports. */
export interface TransportFactory {
  webRtcTransport(router: Router, role: 'publisher' | 'viewer'): Promise<WebRtcTransport>;
}

interface Slot {
  index: number;
  worker: Worker;
  server: WebRtcServer | undefined;
  load: number;
}

/** The address candidates announce: the public IP, else this machine's first external IPv4. */
function announcedAddress(
  publicIp: string | undefined,
  interfaces: ReturnType<typeof networkInterfaces>,
): string {
  if (publicIp) return publicIp;
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * Where a WebRtcTransport (or a worker's WebRtcServer, on `port`) listens and what its candidates
 * say, as werift's do (werift/peer.ts): loopback-only ICE listens on 127.0.0.1 and announces
 * nothing else; otherwise it listens on every address and announces ONAIR_PUBLIC_IP, else the first
 * external IPv4. Pure (the interfaces are passed in): table-tested.
 */
export function listenInfos(
  o: Pick<WorkerPoolOptions, 'loopbackOnly' | 'publicIp' | 'portRange'>,
  port?: number,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): TransportListenInfo[] {
  const base = o.loopbackOnly
    ? { ip: '127.0.0.1' }
    : { ip: '0.0.0.0', announcedAddress: announcedAddress(o.publicIp, interfaces) };
  const where =
    port !== undefined
      ? { port }
      : o.portRange
        ? { portRange: { min: o.portRange[0], max: o.portRange[1] } }
        : {};
  // Room for a keyframe burst (as for werift's publisher sockets).
  const udp: TransportListenInfo = { protocol: 'udp', ...base, ...where, recvBufferSize: 4 * 1024 * 1024 };
  return [udp, { protocol: 'tcp', ...base, ...where }];
}

export class WorkerPool implements TransportFactory {
  readonly #opts: WorkerPoolOptions;
  readonly #slots: (Slot | undefined)[] = [];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  readonly #restarts: number[] = [];
  #closed = false;
  deaths = 0;

  private constructor(opts: WorkerPoolOptions) {
    this.#opts = opts;
  }

  /** Starts every worker; throws when one cannot start (the caller may fall back to werift). */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      for (let i = 0; i < opts.workers; i++) await pool.#startSlot(i);
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  async #startSlot(index: number): Promise<void> {
    const o = this.#opts;
    const worker = await o.mediasoup.createWorker({ logLevel: 'warn', workerBin: o.workerBin });
    let server: WebRtcServer | undefined;
    try {
      if (o.singlePort !== undefined)
        server = await worker.createWebRtcServer({ listenInfos: listenInfos(o, o.singlePort + index) });
    } catch (err) {
      worker.close();
      throw err;
    }
    const slot: Slot = { index, worker, server, load: 0 };
    this.#slots[index] = slot;
    worker.on('died', (error) => this.#died(slot, error));
    o.log.info({ pid: worker.pid, index }, 'mediasoup worker started');
  }

  #died(slot: Slot, error: Error): void {
    if (this.#slots[slot.index] !== slot) return;
    this.#slots[slot.index] = undefined;
    this.deaths++;
    this.#opts.log.error({ pid: slot.worker.pid, err: error }, 'mediasoup worker died; starting another');
    this.#opts.onWorkerDied(slot.worker, error);
    if (this.#closed) return;
    // Backoff: 1 s, doubling for every death in the last minute, at most 30 s.
    const now = Date.now();
    this.#restarts.push(now);
    while (this.#restarts.length > 0 && now - this.#restarts[0]! > 60_000) this.#restarts.shift();
    const delay = Math.min(30_000, 1000 * 2 ** (this.#restarts.length - 1));
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#closed) return;
      this.#startSlot(slot.index).catch((err: unknown) => {
        this.#opts.log.error({ err }, 'a mediasoup worker could not be restarted');
      });
    }, delay);
    timer.unref();
    this.#restartTimers.add(timer);
  }

  get workers(): Worker[] {
    return this.#slots.filter((s): s is Slot => s !== undefined).map((s) => s.worker);
  }

  /** The least-loaded live worker, now holding one more channel. */
  acquire(): Worker {
    let best: Slot | undefined;
    for (const s of this.#slots) if (s && !s.worker.died && (!best || s.load < best.load)) best = s;
    if (!best) throw new MediaError('sfu_unavailable', 'no SFU worker is running; retry in a moment');
    best.load++;
    return best.worker;
  }

  release(worker: Worker): void {
    const slot = this.#slots.find((s) => s?.worker === worker);
    if (slot) slot.load = Math.max(0, slot.load - 1);
  }

  async webRtcTransport(router: Router, role: 'publisher' | 'viewer'): Promise<WebRtcTransport> {
    const slot = this.#slots.find((s) => s && s.worker.died === false && s.server && this.#owns(s, router));
    const common = {
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      // A viewer that stops answering consent checks is gone sooner than the 30 s default.
      iceConsentTimeout: role === 'viewer' ? 15 : 30,
      initialAvailableOutgoingBitrate: 2_000_000,
    };
    if (slot?.server) return router.createWebRtcTransport({ webRtcServer: slot.server, ...common });
    return router.createWebRtcTransport({ listenInfos: listenInfos(this.#opts), ...common });
  }

  readonly #routerWorker = new WeakMap<Router, Worker>();

  /** Remembers which worker a router lives on (the WebRtcServer must be that worker's). */
  placed(router: Router, worker: Worker): void {
    this.#routerWorker.set(router, worker);
  }

  #owns(slot: Slot, router: Router): boolean {
    return this.#routerWorker.get(router) === slot.worker;
  }

  /** Closes every worker (and with them every router). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    for (const s of this.#slots) s?.worker.close();
    this.#slots.length = 0;
  }
}
