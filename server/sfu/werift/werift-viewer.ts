/**
 * A WebRTC viewer on werift (WHEP): one sendonly peer connection whose tracks
 * carry the source's own packets. The forwarder (viewer-forwarder.ts) decides
 * what to send and rewrites sequence numbers and timestamps; werift's sender
 * sets the SSRC and payload type, encrypts (SRTP), keeps the last 128 packets
 * for NACKs and sends RTCP sender reports. The viewer's PLI and FIR become
 * keyframe requests to the source (gated there: many viewers, one PLI).
 */
import {
  MediaStream,
  RtcpPayloadSpecificFeedback,
  RtpHeader,
  RtpPacket,
  type RTCPeerConnection,
  type RTCRtpSender,
} from 'werift';
import { withBundleOnlyPorts } from '../../media/sdp.ts';
import type { Logger } from '../../log.ts';
import type { MediaKind, MediaSource } from '../../media/source.ts';
import type { FanoutRegistry } from '../fanout.ts';
import { ViewerBase, type ViewerFigures, type ViewerTimeouts } from '../viewer-base.ts';
import { ViewerForwarder, type ForwardTarget } from '../viewer-forwarder.ts';
import type { ViewerPlan } from '../viewer-plan.ts';
import { localAnswer } from './peer.ts';
import { LeanRtpSender, useKeyObjects } from './tuning.ts';

export interface WeriftViewerOptions extends ViewerTimeouts {
  log: Logger;
  fanouts: FanoutRegistry;
  /** Answer only loopback candidates (tests, single-machine setups). */
  loopbackOnly: boolean;
  /**
   * A viewer that sends no RTCP (receiver reports, which browsers send every
   * second or so) for this long while media flows to it is gone: closed, rather
   * than sent to until ICE consent expires (30 s).
   */
  silenceTimeoutMs?: number;
  /** Sends not yet handed to the socket, per viewer, beyond which packets are dropped. */
  maxBacklog?: number;
}

/** FIR (RFC 5104) carries media SSRC 0, so werift's router does not pass it to the sender. */
const FIR_COUNT = 4;

export class WeriftViewer extends ViewerBase {
  readonly #pc: RTCPeerConnection;
  readonly #opts: WeriftViewerOptions;
  readonly #senders: Partial<Record<MediaKind, RTCRtpSender>> = {};
  readonly #lean: Partial<Record<MediaKind, LeanRtpSender>> = {};
  readonly #forwarder: ViewerForwarder;
  readonly #maxBacklog: number;
  #backlog = 0;
  #nacked = 0;
  #lastHeardAt = Date.now();

  constructor(pc: RTCPeerConnection, plan: ViewerPlan, opts: WeriftViewerOptions) {
    super(opts.log, opts);
    this.#pc = pc;
    this.#opts = opts;
    this.#maxBacklog = opts.maxBacklog ?? 256;
    const stream = new MediaStream({ id: 'onair' });
    for (const t of [plan.video, plan.audio]) {
      if (!t) continue;
      const transceiver = pc.addTransceiver(t.kind, { direction: 'sendonly', streams: [stream] });
      this.#senders[t.kind] = transceiver.sender;
      // DTLS server (a=setup:passive): the browser sends its ClientHello as soon as ICE is up,
      // where werift as the client would first wait a fixed 100 ms.
      transceiver.sender.dtlsTransport.role = 'server';
      const lean = LeanRtpSender.for(transceiver.sender, this.#maxBacklog);
      if (lean) this.#lean[t.kind] = lean;
    }
    const target: ForwardTarget = {
      send: (kind, seq, ts, marker, payload) => this.#send(kind, seq, ts, marker, payload),
    };
    this.#forwarder = new ViewerForwarder({
      tracks: [plan.video, plan.audio]
        .filter((t) => t !== undefined)
        .map((t) => ({ kind: t.kind, codec: t.track.codec })),
      target,
      fanouts: opts.fanouts,
    });
  }

  get source(): MediaSource | undefined {
    return this.#forwarder.source;
  }

  async negotiate(plan: ViewerPlan, source: MediaSource): Promise<void> {
    const pc = this.#pc;
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    for (const sender of Object.values(this.#senders))
      sender.onGenericNack.subscribe((nack) => (this.#nacked += nack.lost.length));
    const video = this.#senders.video;
    video?.onPictureLossIndication.subscribe(() => this.#forwarder.requestKeyframe());
    // One transport (BUNDLE): every RTCP packet of the viewer passes here.
    Object.values(this.#senders)[0]?.dtlsTransport.onRtcp.subscribe((rtcp) => {
      this.#lastHeardAt = Date.now();
      if (video && rtcp instanceof RtcpPayloadSpecificFeedback && rtcp.feedback.count === FIR_COUNT)
        this.#forwarder.requestKeyframe();
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: withBundleOnlyPorts(plan.offer) });
    const answer = await localAnswer(pc, this.#opts.loopbackOnly);
    this.#forwarder.setSource(source);
    this.answered(answer);
  }

  #send(kind: MediaKind, seq: number, ts: number, marker: boolean, payload: Buffer): boolean {
    if (this.state !== 'connected') return false;
    const lean = this.#lean[kind];
    if (lean) return lean.send(seq, ts, marker, payload);
    const sender = this.#senders[kind];
    if (!sender) return false;
    // A viewer that cannot keep up loses packets; it never holds up the source or other viewers.
    if (this.#backlog >= this.#maxBacklog) return false;
    this.#backlog++;
    const header = new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker });
    sender
      .sendRtp(new RtpPacket(header, payload))
      .catch(() => undefined)
      .finally(() => this.#backlog--);
    return true;
  }

  setSource(source: MediaSource | undefined): boolean {
    if (this.state === 'closed') return false;
    // Silence is judged only while media flows: a waiting viewer has nothing to report on.
    this.#lastHeardAt = Date.now();
    return this.#forwarder.setSource(source);
  }

  #onConnectionState(state: string): void {
    if (this.state === 'closed') return;
    if (!this.timers.ice(state, this.disconnectTimeoutMs) || this.state !== 'connecting') return;
    for (const sender of Object.values(this.#senders)) useKeyObjects(sender.dtlsTransport);
    this.connected(() => {
      this.#lastHeardAt = Date.now();
      this.#forwarder.start();
      this.timers.watchSilence(
        this.#opts.silenceTimeoutMs ?? 15_000,
        () => (this.#forwarder.source ? this.#lastHeardAt : undefined),
        (s) => `no RTCP from the viewer for ${s} s`,
        { unref: true },
      );
    });
  }

  protected figures(): ViewerFigures {
    const c = this.#forwarder.counters;
    return {
      packetsSent: c.packetsSent,
      bytesSent: c.bytesSent,
      packetsDropped: c.packetsDropped,
      packetsNacked: this.#nacked,
      keyframeRequests: c.keyframeRequests,
    };
  }

  protected release(): void {
    this.#forwarder.close();
    this.#pc.close().catch((err: unknown) => this.log.warn({ err }, 'peer connection close failed'));
  }
}
