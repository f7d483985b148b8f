/**
 * A WebRTC viewer (WHEP) on mediasoup: a WebRtcTransport with a Consumer per
 * track of the feed (feed.ts) that carries the channel's source on the
 * payload types this viewer offered. The worker encrypts, sends, answers NACKs
 * from its own buffer and turns the viewer's PLI/FIR into a keyframe request
 * of the feed's producer. Changing the source needs no renegotiation: the feed
 * continues on the same SSRC.
 */
import type { Logger } from '../../log.ts';
import { parseSdp } from '../../media/sdp-parser.ts';
import type { MediaSource } from '../../media/source.ts';
import { untilKeyframe } from '../keyframe-gate.ts';
import { ViewerBase, type ViewerFigures, type ViewerTimeouts } from '../viewer-base.ts';
import type { Feed } from './feed.ts';
import type { Consumer, WebRtcTransport } from './mediasoup-api.ts';
import {
  consumerCapabilities,
  offerDtlsParameters,
  viewerAnswer,
  type AnsweredConsumer,
  type ViewerTrackPlan,
} from './sdp-translation.ts';
import type { TransportFactory } from './worker-pool.ts';

export interface MediasoupViewerOptions extends ViewerTimeouts {
  log: Logger;
  feed: Feed;
  transports: TransportFactory;
  /** How often consumer figures are read from the worker. */
  statsEveryMs?: number;
}

export class MediasoupViewer extends ViewerBase {
  readonly #opts: MediasoupViewerOptions;
  readonly #feed: Feed;
  readonly #consumers: Consumer[] = [];
  readonly #figures = { packetsSent: 0, bytesSent: 0, packetsNacked: 0, keyframeRequests: 0 };
  #transport: WebRtcTransport | undefined;
  #source: MediaSource | undefined;
  #keyframeWatch: (() => void) | undefined;

  constructor(opts: MediasoupViewerOptions) {
    super(opts.log, opts);
    this.#opts = opts;
    // The feed comes acquired for this viewer; close() releases it.
    this.#feed = opts.feed;
  }

  get source(): MediaSource | undefined {
    return this.#source;
  }

  async negotiate(offerSdp: string, tracks: readonly ViewerTrackPlan[], source: MediaSource): Promise<void> {
    const offer = parseSdp(offerSdp);
    const transport = await this.#opts.transports.webRtcTransport(this.#feed.router, 'viewer');
    this.#transport = transport;
    transport.on('dtlsstatechange', (s) => this.#onDtlsState(s));
    transport.on('icestatechange', (s) => this.#onIceState(s));
    transport.on('routerclose', () => this.close('the SFU worker closed; reconnect'));
    await transport.connect({ dtlsParameters: offerDtlsParameters(offer) });
    const answered: AnsweredConsumer[] = [];
    for (const t of tracks) {
      const producerId = this.#feed.producerId(t.kind);
      if (!producerId) continue;
      const consumer = await transport.consume({
        producerId,
        rtpCapabilities: consumerCapabilities(offer, t),
        // mediasoup keeps NACK feedback only with RTX enabled; with no RTX codec offered in the
        // capabilities, the worker resends lost packets on the media SSRC itself.
        enableRtx: true,
      });
      this.#consumers.push(consumer);
      answered.push({ track: t, rtpParameters: consumer.rtpParameters });
    }
    const answer = viewerAnswer(offer, answered, transport, this.id);
    this.setSource(source);
    this.answered(answer);
    this.timers.every(this.#opts.statsEveryMs ?? 1000, () => void this.#readStats(), { unref: true });
  }

  async #readStats(): Promise<void> {
    let sent = 0;
    let bytes = 0;
    let nacks = 0;
    let keyframes = 0;
    for (const c of this.#consumers) {
      if (c.closed) continue;
      const stats = await c.getStats().catch(() => []);
      for (const s of stats) {
        if (s.type !== 'outbound-rtp') continue;
        sent += s.packetCount ?? 0;
        bytes += s.byteCount ?? 0;
        nacks += s.nackPacketCount ?? s.nackCount ?? 0;
        keyframes += (s.pliCount ?? 0) + (s.firCount ?? 0);
      }
    }
    Object.assign(this.#figures, {
      packetsSent: sent,
      bytesSent: bytes,
      packetsNacked: nacks,
      keyframeRequests: keyframes,
    });
  }

  setSource(source: MediaSource | undefined): boolean {
    if (this.state === 'closed') return false;
    if (source && !this.#feed.accepts(source)) return false;
    this.#source = source;
    return this.#feed.setSource(source);
  }

  #onDtlsState(state: string): void {
    if (this.state === 'closed') return;
    if (!this.timers.dtls(state) || this.state !== 'connecting') return;
    // First figures soon after media starts, then every second.
    this.connected(() => this.timers.once(250, () => void this.#readStats(), { unref: true }));
    // The first picture: ask until a keyframe has passed (the consumer alone retries after 1 s).
    const video = this.#consumers.find((c) => c.kind === 'video');
    if (this.#source && video)
      this.#keyframeWatch = untilKeyframe(this.#source, () => {
        if (!video.closed) video.requestKeyFrame().catch(() => undefined);
      });
  }

  #onIceState(state: string): void {
    if (this.state === 'closed') return;
    // mediasoup reports a viewer that stopped answering consent checks as disconnected.
    this.timers.ice(state, this.disconnectTimeoutMs);
  }

  protected figures(): ViewerFigures {
    return {
      packetsSent: this.#figures.packetsSent,
      bytesSent: this.#figures.bytesSent,
      // The worker queues what the socket cannot take; it does not count drops per consumer.
      packetsDropped: 0,
      packetsNacked: this.#figures.packetsNacked,
      keyframeRequests: this.#figures.keyframeRequests,
    };
  }

  /** Closes the transport (and its consumers) and lets go of the feed. */
  protected release(): void {
    this.#keyframeWatch?.();
    this.#transport?.close();
    this.#feed.release();
  }
}
