/**
 * A WebRTC viewer on werift (WHEP): one sendonly peer connection whose tracks
 * carry the source's own packets. The forwarder (viewer-forwarder.ts) decides
 * what to send and rewrites sequence numbers and timestamps; werift's sender
 * sets the SSRC and payload type, encrypts (SRTP), keeps the last 128 packets
 * for NACKs and sends RTCP sender reports. The viewer's PLI and FIR become
 * keyframe requests to the source (gated there: many viewers, one PLI).
 */
import { randomBytes } from 'node:crypto';
import {
  MediaStream,
  RtcpPayloadSpecificFeedback,
  RtpHeader,
  RtpPacket,
  type RTCPeerConnection,
  type RTCRtpSender,
} from 'werift';
import type { Logger } from '../../log.ts';
import { filterCandidates } from '../../media/sdp.ts';
import type { MediaKind, MediaSource } from '../../media/source.ts';
import { TypedEmitter } from '../../media/typed-emitter.ts';
import type { ViewerEvents, ViewerSession, ViewerState, ViewerStats } from '../engine.ts';
import type { FanoutRegistry } from '../fanout.ts';
import { LeanRtpSender, useKeyObjects } from './tuning.ts';
import { ViewerForwarder, type ForwardTarget } from '../viewer-forwarder.ts';
import type { ViewerPlan } from '../viewer-plan.ts';

export interface WeriftViewerOptions {
  log: Logger;
  fanouts: FanoutRegistry;
  /** Answer only loopback candidates (tests, single-machine setups). */
  loopbackOnly: boolean;
  /** A viewer that does not connect in this time is closed. */
  connectTimeoutMs?: number;
  /** A disconnected ICE connection that does not recover in this time is closed. */
  disconnectTimeoutMs?: number;
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

export class WeriftViewer implements ViewerSession {
  readonly id = randomBytes(16).toString('base64url');
  answer = '';
  state: ViewerState = 'connecting';
  connectedSince: number | undefined;

  readonly #pc: RTCPeerConnection;
  readonly #opts: WeriftViewerOptions;
  readonly #events: TypedEmitter<ViewerEvents>;
  readonly #senders: Partial<Record<MediaKind, RTCRtpSender>> = {};
  readonly #lean: Partial<Record<MediaKind, LeanRtpSender>> = {};
  readonly #forwarder: ViewerForwarder;
  readonly #maxBacklog: number;
  #backlog = 0;
  #nacked = 0;
  #lastHeardAt = Date.now();
  #timers: NodeJS.Timeout[] = [];
  #disconnectTimer: NodeJS.Timeout | undefined;

  constructor(pc: RTCPeerConnection, plan: ViewerPlan, opts: WeriftViewerOptions) {
    this.#pc = pc;
    this.#opts = opts;
    this.#maxBacklog = opts.maxBacklog ?? 256;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'viewer listener failed'));
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
    await pc.setRemoteDescription({ type: 'offer', sdp: plan.offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringComplete(pc, 3000);
    let sdp = pc.localDescription?.sdp ?? '';
    if (this.#opts.loopbackOnly) sdp = filterCandidates(sdp, (a) => a === '127.0.0.1');
    this.answer = sdp;
    this.#forwarder.setSource(source);
    const connectTimeout = this.#opts.connectTimeoutMs ?? 15_000;
    this.#timers.push(
      setTimeout(() => {
        if (this.state === 'connecting')
          this.close(`ICE did not connect within ${Math.round(connectTimeout / 1000)} s`);
      }, connectTimeout),
    );
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

  #startSilenceWatch(): void {
    const limit = this.#opts.silenceTimeoutMs ?? 15_000;
    const timer = setInterval(
      () => {
        if (this.#forwarder.source && Date.now() - this.#lastHeardAt > limit)
          this.close(`no RTCP from the viewer for ${Math.round(limit / 1000)} s`);
      },
      Math.min(1000, limit),
    );
    timer.unref();
    this.#timers.push(timer);
  }

  #onConnectionState(state: string): void {
    if (this.state === 'closed') return;
    if (state === 'connected') {
      if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
      if (this.state === 'connecting') {
        for (const sender of Object.values(this.#senders)) useKeyObjects(sender.dtlsTransport);
        this.state = 'connected';
        this.connectedSince = Date.now();
        this.#lastHeardAt = Date.now();
        this.#forwarder.start();
        this.#startSilenceWatch();
        this.#events.emit('connected');
      }
    } else if (state === 'disconnected') {
      this.#disconnectTimer ??= setTimeout(
        () => this.close('ICE disconnected'),
        this.#opts.disconnectTimeoutMs ?? 5000,
      );
    } else if (state === 'failed' || state === 'closed') {
      this.close(`ICE ${state}`);
    }
  }

  stats(): ViewerStats {
    const c = this.#forwarder.counters;
    return {
      state: this.state,
      connectedSince: this.connectedSince,
      packetsSent: c.packetsSent,
      bytesSent: c.bytesSent,
      packetsDropped: c.packetsDropped,
      packetsNacked: this.#nacked,
      keyframeRequests: c.keyframeRequests,
    };
  }

  on<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof ViewerEvents>(event: E, listener: (...args: ViewerEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.#timers) clearInterval(t);
    if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
    this.#forwarder.close();
    this.#pc.close().catch((err: unknown) => this.#opts.log.warn({ err }, 'peer connection close failed'));
    this.#events.emit('closed', reason);
    this.#events.removeAll();
  }
}

/** Waits until ICE gathering completes (all candidates go in the answer), or the timeout. */
export async function gatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}
