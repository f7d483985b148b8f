/** The default SFU engine: werift, pure TypeScript WebRTC. Runs everywhere. */
import type { Logger } from '../../log.ts';
import type * as sfu from '../engine.ts';
import { PlainTransport } from '../plain-transport.ts';
import { EngineBase, RouterBase, sessionTimeouts } from '../router-base.ts';
import { planViewer } from '../viewer-plan.ts';
import { publisherPeerConnection, viewerPeerConnection, type PeerSettings } from './peer.ts';
import { WeriftPublisher } from './werift-publisher.ts';
import { WeriftViewer } from './werift-viewer.ts';

export interface WeriftEngineOptions extends PeerSettings {
  log: Logger;
  /** A connected publisher that sends nothing for this long is closed. */
  silenceTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
}

export class WeriftEngine extends EngineBase<WeriftRouter> {
  readonly name = 'werift';
  readonly #opts: WeriftEngineOptions;

  constructor(opts: WeriftEngineOptions) {
    super();
    this.#opts = opts;
  }

  protected makeRouter(channelId: string, onClose: () => void): WeriftRouter {
    return new WeriftRouter(channelId, this.#opts, onClose);
  }
}

/** A channel's scope: owns its publishers and transports, and closes them with itself. */
class WeriftRouter extends RouterBase {
  readonly #opts: WeriftEngineOptions;

  constructor(channelId: string, opts: WeriftEngineOptions, onClose: () => void) {
    super(channelId, opts.log.child({ channelId }), onClose, 'forwarding a packet to a viewer failed');
    this.#opts = opts;
  }

  async createPublisher(p: sfu.PublisherOptions): Promise<sfu.PublisherSession> {
    this.assertOpen();
    const session = new WeriftPublisher(publisherPeerConnection(this.#opts, p.videoCodec), {
      log: this.log,
      loopbackOnly: this.#opts.loopbackOnly,
      ...sessionTimeouts(this.#opts),
    });
    return this.admitPublisher(session, () => session.negotiate(p));
  }

  createPlainTransport(opts: sfu.PlainRtpOptions): sfu.PlainRtpTransport {
    this.assertOpen();
    return this.adoptTransport((onClose) => new PlainTransport(opts, onClose));
  }

  async createViewer(v: sfu.ViewerOptions): Promise<sfu.ViewerSession> {
    this.assertOpen();
    const plan = planViewer(v.offer, v.summary, v.source);
    const { disconnectTimeoutMs } = sessionTimeouts(this.#opts);
    const viewer = new WeriftViewer(viewerPeerConnection(this.#opts, plan), plan, {
      log: this.log,
      fanouts: this.fanouts,
      loopbackOnly: this.#opts.loopbackOnly,
      ...(disconnectTimeoutMs !== undefined ? { disconnectTimeoutMs } : {}),
    });
    return this.admitViewer(viewer, () => viewer.negotiate(plan, v.source));
  }
}
