/**
 * The ownership tree every engine shares (engine.ts): an engine owns its
 * channels' routers, a router owns its publishers, viewers and plain-RTP
 * transports, and closing a parent closes its children. Here is that cascade
 * once, with what joining a router means: a session is negotiated, closed
 * (with a typed error) when negotiation fails or the router closed meanwhile,
 * and owned by the router until it ends. The werift and mediasoup engines keep
 * only how they make sessions and what else their routers hold.
 */
import type { Logger } from '../log.ts';
import { MediaError } from '../media/errors.ts';
import type {
  ChannelRouter,
  PlainRtpOptions,
  PlainRtpTransport,
  PublisherOptions,
  PublisherSession,
  SfuEngine,
  ViewerOptions,
  ViewerSession,
} from './engine.ts';
import { FanoutRegistry } from './fanout.ts';

/** The session timeouts an engine was configured with, as session options (unset ones left out). */
export function sessionTimeouts(o: { silenceTimeoutMs?: number; disconnectTimeoutMs?: number }): {
  silenceTimeoutMs?: number;
  disconnectTimeoutMs?: number;
} {
  return {
    ...(o.silenceTimeoutMs !== undefined ? { silenceTimeoutMs: o.silenceTimeoutMs } : {}),
    ...(o.disconnectTimeoutMs !== undefined ? { disconnectTimeoutMs: o.disconnectTimeoutMs } : {}),
  };
}

/** What a router throws once it is closing: nothing more joins the channel. */
export function routerClosed(): MediaError {
  return new MediaError('router_closed', 'channel is stopping');
}

/** A negotiation failure as a typed error: media errors as they are, anything else as unsupported_offer. */
export function negotiationError(err: unknown): MediaError {
  if (err instanceof MediaError) return err;
  return new MediaError('unsupported_offer', `the offer could not be negotiated: ${(err as Error).message}`, {
    cause: err,
  });
}

export abstract class RouterBase<T extends PlainRtpTransport = PlainRtpTransport> implements ChannelRouter {
  readonly channelId: string;
  /** The channel's log. */
  protected readonly log: Logger;
  protected readonly fanouts: FanoutRegistry;
  protected readonly transports = new Set<T>();
  readonly #publishers = new Set<PublisherSession>();
  readonly #viewers = new Set<ViewerSession>();
  readonly #onClose: () => void;
  #closed = false;

  constructor(channelId: string, log: Logger, onClose: () => void, fanoutFailure: string) {
    this.channelId = channelId;
    this.log = log;
    this.#onClose = onClose;
    this.fanouts = new FanoutRegistry((err) => log.error({ err }, fanoutFailure));
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract createPublisher(opts: PublisherOptions): Promise<PublisherSession>;
  abstract createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport;
  abstract createViewer(opts: ViewerOptions): Promise<ViewerSession>;

  /** Throws router_closed once the router is closing. */
  protected assertOpen(): void {
    if (this.#closed) throw routerClosed();
  }

  /** Negotiates a publisher; the router owns it from then until it ends. */
  protected admitPublisher(
    session: PublisherSession,
    negotiate: () => Promise<void>,
  ): Promise<PublisherSession> {
    return this.#admit(session, negotiate, this.#publishers, (gone) => session.on('ended', gone));
  }

  /** Negotiates a viewer; the router owns it from then until it closes. */
  protected admitViewer(viewer: ViewerSession, negotiate: () => Promise<void>): Promise<ViewerSession> {
    return this.#admit(viewer, negotiate, this.#viewers, (gone) => viewer.on('closed', gone));
  }

  async #admit<S extends { close(reason: string): void }>(
    session: S,
    negotiate: () => Promise<void>,
    owned: Set<S>,
    onGone: (gone: () => void) => void,
  ): Promise<S> {
    await this.#negotiate(session, negotiate);
    owned.add(session);
    onGone(() => owned.delete(session));
    return session;
  }

  async #negotiate(session: { close(reason: string): void }, negotiate: () => Promise<void>): Promise<void> {
    try {
      await negotiate();
    } catch (err) {
      session.close('negotiation failed');
      throw negotiationError(err);
    }
    if (this.#closed) {
      session.close('channel stopped');
      throw routerClosed();
    }
  }

  /** A plain-RTP transport the router owns until it closes; `make` gets the callback that lets go of it. */
  protected adoptTransport(make: (onClose: () => void) => T): T {
    const transport: T = make(() => this.transports.delete(transport));
    this.transports.add(transport);
    return transport;
  }

  /** Ends every viewer and publisher (their clients reconnect); the router stays open. */
  protected endSessions(viewerReason: string, publisherReason: string): void {
    for (const v of [...this.#viewers]) v.close(viewerReason);
    for (const p of [...this.#publishers]) p.close(publisherReason);
  }

  /** Closes every session and transport of the channel, then what the engine's router holds. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of [...this.#viewers]) v.close('channel stopped');
    for (const t of [...this.transports]) t.close({ bye: true });
    for (const p of [...this.#publishers]) p.close('channel stopped');
    this.fanouts.close();
    this.release();
    this.#onClose();
  }

  /** What else the engine's router lets go of when it closes. */
  protected release(): void {}
}

/** An engine: the routers of its channels, and a close that closes them all. */
export abstract class EngineBase<R extends RouterBase> implements SfuEngine {
  abstract readonly name: string;
  protected readonly routers: Set<R>;
  #closed = false;

  constructor(routers: Set<R> = new Set()) {
    this.routers = routers;
  }

  /** The engine's router for a channel; `onClose` lets go of it. */
  protected abstract makeRouter(channelId: string, onClose: () => void): R;

  createRouter(channelId: string): ChannelRouter {
    if (this.#closed) throw new MediaError('sfu_unavailable', 'the SFU is shutting down');
    const router: R = this.makeRouter(channelId, () => this.routers.delete(router));
    this.routers.add(router);
    return router;
  }

  /** Closes every router, then what the engine holds. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.routers]) r.close();
    this.release();
    await Promise.resolve();
  }

  protected release(): void {}
}
