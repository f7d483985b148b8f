/** The default SFU engine: werift, pure TypeScript WebRTC. Runs everywhere. */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { OnairError } from '../../../lib/errors.ts';
import type { IceServer } from '../../config.ts';
import type { Logger } from '../../log.ts';
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
import { PlainTransport } from '../plain-transport.ts';
import { planViewer, type ViewerPlan } from '../viewer-plan.ts';
import { WeriftPublisher, type WeriftPublisherOptions } from './werift-publisher.ts';
import { WeriftViewer } from './werift-viewer.ts';

export interface WeriftEngineOptions {
  log: Logger;
  iceServers: IceServer[];
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  /** Gather and answer loopback candidates only (tests, single-machine setups). */
  loopbackOnly: boolean;
  /** A connected publisher that sends nothing for this long is closed. */
  silenceTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
}

/** PLI must be declared or werift ignores it (and browsers send few keyframes unprompted). */
const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

export class WeriftEngine implements SfuEngine {
  readonly name = 'werift';
  readonly #opts: WeriftEngineOptions;
  readonly #routers = new Set<WeriftRouter>();
  #closed = false;

  constructor(opts: WeriftEngineOptions) {
    this.#opts = opts;
  }

  createRouter(channelId: string): ChannelRouter {
    if (this.#closed) throw new OnairError('unavailable', 'the SFU is shutting down');
    const router = new WeriftRouter(channelId, this.#opts, () => this.#routers.delete(router));
    this.#routers.add(router);
    return router;
  }

  /** A peer connection with the codecs onair receives and the configured ICE settings. */
  static peerConnection(o: WeriftEngineOptions, videoCodec: 'H264' | 'VP8'): RTCPeerConnection {
    const video =
      videoCodec === 'H264'
        ? new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: FEEDBACK,
            parameters: 'packetization-mode=1;level-asymmetry-allowed=1',
          })
        : new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: FEEDBACK });
    return WeriftEngine.#peerConnection(o, {
      video: [video],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    });
  }

  /** A viewer's peer connection: exactly the codecs of its plan (the source's, as the viewer offered them). */
  static viewerPeerConnection(o: WeriftEngineOptions, plan: ViewerPlan): RTCPeerConnection {
    const codec = (t: NonNullable<ViewerPlan['video']>) =>
      new RTCRtpCodecParameters({
        mimeType: `${t.kind}/${t.offered.name === 'OPUS' ? 'opus' : t.offered.name}`,
        clockRate: t.offered.clockRate,
        ...(t.kind === 'audio' ? { channels: 2 } : { rtcpFeedback: FEEDBACK }),
        ...(t.offered.fmtp ? { parameters: t.offered.fmtp } : {}),
      });
    return WeriftEngine.#peerConnection(o, {
      video: plan.video ? [codec(plan.video)] : [],
      audio: plan.audio ? [codec(plan.audio)] : [],
    });
  }

  static #peerConnection(
    o: WeriftEngineOptions,
    codecs: { video: RTCRtpCodecParameters[]; audio: RTCRtpCodecParameters[] },
  ): RTCPeerConnection {
    return new RTCPeerConnection({
      codecs,
      iceServers: o.iceServers,
      icePortRange: o.portRange,
      iceUseIpv6: false,
      iceUseTcp: false,
      ...(o.loopbackOnly
        ? { iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] }
        : o.publicIp
          ? { iceAdditionalHostAddresses: [o.publicIp] }
          : {}),
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#routers]) r.close();
    await Promise.resolve();
  }
}

/** A channel's scope: owns its publishers and transports, and closes them with itself. */
class WeriftRouter implements ChannelRouter {
  readonly channelId: string;
  readonly #opts: WeriftEngineOptions;
  readonly #onClose: () => void;
  readonly #publishers = new Set<WeriftPublisher>();
  readonly #transports = new Set<PlainRtpTransport>();
  readonly #viewers = new Set<WeriftViewer>();
  readonly #fanouts: FanoutRegistry;
  #closed = false;

  constructor(channelId: string, opts: WeriftEngineOptions, onClose: () => void) {
    this.channelId = channelId;
    this.#opts = opts;
    this.#onClose = onClose;
    this.#fanouts = new FanoutRegistry((err) =>
      opts.log.error({ err, channelId }, 'forwarding a packet to a viewer failed'),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  async createPublisher(p: PublisherOptions): Promise<PublisherSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const o = this.#opts;
    const publisherOptions: WeriftPublisherOptions = {
      log: o.log.child({ channelId: this.channelId }),
      loopbackOnly: o.loopbackOnly,
      ...(o.silenceTimeoutMs !== undefined ? { silenceTimeoutMs: o.silenceTimeoutMs } : {}),
      ...(o.disconnectTimeoutMs !== undefined ? { disconnectTimeoutMs: o.disconnectTimeoutMs } : {}),
    };
    const session = new WeriftPublisher(WeriftEngine.peerConnection(o, p.videoCodec), publisherOptions);
    try {
      await session.negotiate(p);
    } catch (err) {
      session.close('negotiation failed');
      if (err instanceof OnairError) throw err;
      throw new OnairError(
        'unsupported_offer',
        `the offer could not be negotiated: ${(err as Error).message}`,
        { cause: err },
      );
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
    const transport: PlainRtpTransport = new PlainTransport(opts, () => this.#transports.delete(transport));
    this.#transports.add(transport);
    return transport;
  }

  async createViewer(v: ViewerOptions): Promise<ViewerSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const o = this.#opts;
    const plan = planViewer(v.offer, v.summary, v.source);
    const viewer = new WeriftViewer(WeriftEngine.viewerPeerConnection(o, plan), plan, {
      log: o.log.child({ channelId: this.channelId }),
      fanouts: this.#fanouts,
      loopbackOnly: o.loopbackOnly,
      ...(o.disconnectTimeoutMs !== undefined ? { disconnectTimeoutMs: o.disconnectTimeoutMs } : {}),
    });
    try {
      await viewer.negotiate(plan, v.source);
    } catch (err) {
      viewer.close('negotiation failed');
      if (err instanceof OnairError) throw err;
      throw new OnairError(
        'unsupported_offer',
        `the offer could not be negotiated: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (this.#closed) {
      viewer.close('channel stopped');
      throw new OnairError('channel_not_running', 'channel is stopping');
    }
    this.#viewers.add(viewer);
    viewer.on('closed', () => this.#viewers.delete(viewer));
    return viewer;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of [...this.#viewers]) v.close('channel stopped');
    for (const t of [...this.#transports]) t.close({ bye: true });
    for (const p of [...this.#publishers]) p.close('channel stopped');
    this.#fanouts.close();
    this.#onClose();
  }
}
