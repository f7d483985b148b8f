/**
 * A plain-RTP consumer: sends tracks of a source to UDP ports on loopback
 * (FFmpeg's input), rewriting the payload type to the one the receiver's SDP
 * declares. The same shape as a mediasoup PlainTransport consumer with comedia
 * off. Engine-independent: it works with any MediaSource.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { MediaSource } from '../media/source.ts';
import type { PlainRtpOptions, PlainRtpTarget, PlainRtpTransport } from './engine.ts';
import { KeyframeWait } from './keyframe-gate.ts';

/** 12 bytes (two SSRC entries): FFmpeg drops RTP/RTCP packets shorter than that. */
const RTCP_BYE = Buffer.from([0x82, 0xcb, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]);

class TrackSender {
  readonly #socket: Socket;
  readonly #target: PlainRtpTarget;
  readonly #unsubscribe: () => void;
  #closed = false;
  #pendingSends = 0;
  packets = 0;

  constructor(source: MediaSource, target: PlainRtpTarget) {
    this.#target = target;
    this.#socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', () => undefined); // ICMP port unreachable while FFmpeg restarts: not fatal
    const pt = target.payloadType & 0x7f;
    const track = source.tracks.find((t) => t.id === target.trackId);
    // Video: asked for a keyframe when the transport opened (PlainTransport); again until one passes.
    const keyframe = new KeyframeWait(track?.kind === 'video' ? track.codec.name : undefined, () =>
      source.requestKeyframe(),
    );
    this.#unsubscribe = source.subscribe(target.trackId, (packet) => {
      if (this.#closed || packet.length < 12) return;
      if (keyframe.waiting) keyframe.saw(packet);
      const out = Buffer.from(packet);
      out[1] = (out[1]! & 0x80) | pt;
      this.packets++;
      this.#socket.send(out, target.port, target.host);
    });
  }

  /**
   * An RTCP BYE on the RTP port and on port + 1: FFmpeg's RTP demuxer reads BYE
   * from every stream as end of input and finishes its files at once.
   */
  sendBye(): void {
    if (this.#closed) return;
    const { port, host } = this.#target;
    this.#pendingSends += 2;
    const sent = () => {
      if (--this.#pendingSends === 0 && this.#closed) this.#socket.close();
    };
    this.#socket.send(RTCP_BYE, port, host, sent);
    this.#socket.send(RTCP_BYE, port + 1, host, sent);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#pendingSends === 0) this.#socket.close();
  }
}

export class PlainTransport implements PlainRtpTransport {
  readonly #senders: TrackSender[];
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onClose: (() => void) | undefined;
  #closed = false;

  /** `onClose` tells the owner (the router) to forget this transport. */
  constructor(opts: PlainRtpOptions, onClose?: () => void) {
    this.#onClose = onClose;
    const { source, targets } = opts;
    for (const t of targets) {
      if (!source.tracks.some((s) => s.id === t.trackId)) {
        throw new RangeError(`source ${source.id} has no track ${t.trackId}`);
      }
    }
    this.#senders = targets.map((t) => new TrackSender(source, t));
    // The receiver needs a keyframe to start decoding; in passthrough, keyframes are
    // also what cuts segments, so they are asked for at the segment cadence.
    source.requestKeyframe();
    if (opts.keyframeIntervalMs !== undefined && opts.keyframeIntervalMs > 0) {
      this.#timer = setInterval(() => source.requestKeyframe(), opts.keyframeIntervalMs);
      this.#timer.unref();
    }
  }

  get packets(): number {
    return this.#senders.reduce((n, s) => n + s.packets, 0);
  }

  close(opts: { bye?: boolean } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const s of this.#senders) {
      if (opts.bye) s.sendBye();
      s.close();
    }
    this.#onClose?.();
  }
}
