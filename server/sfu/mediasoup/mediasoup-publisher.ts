/**
 * A WebRTC publisher (WHIP) on mediasoup: a WebRtcTransport with a Producer
 * per track, on the channel's router. The browser's media stays in the
 * worker (SRTP, NACK to the publisher, congestion feedback); a DirectTransport
 * Consumer per track brings each packet into Node once, for the channel's
 * source (failover switcher, and from there FFmpeg and viewers). Keyframe
 * requests go through that consumer to the producer (PLI/FIR to the browser),
 * behind the source's gate.
 */
import type { Logger } from '../../log.ts';
import { MediaError } from '../../media/errors.ts';
import { readRtpHeader } from '../../media/rtp.ts';
import { addBitrateHints } from '../../media/sdp.ts';
import type { MediaKind, RtpCodec } from '../../media/source.ts';
import type { PublisherOptions } from '../engine.ts';
import { PublisherBase, type PublisherTimeouts } from '../publisher-base.ts';
import type { Consumer, DirectTransport, Router, WebRtcTransport } from './mediasoup-api.ts';
import { planPublisher, publisherAnswer } from './sdp-translation.ts';
import type { TransportFactory } from './worker-pool.ts';

export interface MediasoupPublisherOptions extends PublisherTimeouts {
  log: Logger;
  router: Router;
  transports: TransportFactory;
}

export class MediasoupPublisher extends PublisherBase {
  readonly engine = 'mediasoup';

  readonly #opts: MediasoupPublisherOptions;
  readonly #consumers: Partial<Record<MediaKind, Consumer>> = {};
  #transport: WebRtcTransport | undefined;
  #direct: DirectTransport | undefined;

  constructor(opts: MediasoupPublisherOptions) {
    super(opts.log, opts);
    this.#opts = opts;
  }

  async negotiate(p: PublisherOptions): Promise<void> {
    const plan = planPublisher(p.offer, { videoCodec: p.videoCodec, withAudio: p.withAudio });
    const router = this.#opts.router;
    const transport = await this.#opts.transports.webRtcTransport(router, 'publisher');
    this.#transport = transport;
    transport.on('dtlsstatechange', (s) => this.#onDtlsState(s));
    transport.on('icestatechange', (s) => this.#onIceState(s));
    transport.on('routerclose', () => this.close('the SFU worker closed'));
    await transport.connect({ dtlsParameters: plan.remoteDtls });
    const direct = await router.createDirectTransport();
    this.#direct = direct;
    const codecs: { video: RtpCodec; audio: RtpCodec | undefined } = {
      video: plan.video.codec,
      audio: undefined,
    };
    for (const t of [plan.video, plan.audio]) {
      if (!t) continue;
      const producer = await transport.produce({ kind: t.kind, rtpParameters: t.rtpParameters });
      // Into Node once per packet; router payload types (the track declares the one it carries).
      const consumer = await direct.consume({
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
      });
      this.#consumers[t.kind] = consumer;
      const pt = consumer.rtpParameters.codecs[0]?.payloadType ?? t.codec.payloadType;
      codecs[t.kind] = { ...t.codec, payloadType: pt };
      consumer.on('rtp', (packet) => this.#onRtp(t.kind, packet));
    }
    this.tracks = [
      { id: 'video', kind: 'video', codec: codecs.video, ssrc: this.#ssrc('video') },
      ...(codecs.audio
        ? [{ id: 'audio', kind: 'audio' as const, codec: codecs.audio, ssrc: this.#ssrc('audio') }]
        : []),
    ];
    this.answer = addBitrateHints(publisherAnswer(plan, transport, this.id), p.bitrate);
    this.negotiated(codecs);
  }

  #ssrc(kind: MediaKind): number | undefined {
    return this.#consumers[kind]?.rtpParameters.encodings?.[0]?.ssrc;
  }

  #onRtp(kind: MediaKind, packet: Buffer): void {
    if (this.state === 'ended') return;
    this.heard();
    const header = readRtpHeader(packet);
    if (!header) return;
    this.received(
      kind,
      packet,
      header.sequenceNumber,
      packet.subarray(header.payloadOffset, header.payloadEnd),
    );
  }

  #onDtlsState(state: string): void {
    if (this.state === 'ended') return;
    if (this.timers.dtls(state) && this.state === 'connecting') this.connected();
  }

  #onIceState(state: string): void {
    if (this.state === 'ended') return;
    this.timers.ice(state, this.disconnectTimeoutMs);
  }

  /** Through the consumer to the producer: mediasoup sends PLI (or FIR) to the publisher. */
  protected sendKeyframeRequest(): void {
    const c = this.#consumers.video;
    if (this.state !== 'live' || !c || c.closed) return;
    c.requestKeyFrame().catch(() => undefined);
  }

  /** Closes the transports (and with them the producers and consumers). */
  protected override release(reason: string): void {
    super.release(reason);
    this.#direct?.close();
    this.#transport?.close();
  }
}

export function negotiationError(err: unknown): MediaError {
  if (err instanceof MediaError) return err;
  return new MediaError('unsupported_offer', `the offer could not be negotiated: ${(err as Error).message}`, {
    cause: err,
  });
}
