/**
 * A plain-RTP consumer: sends one track of a publisher to a UDP port on
 * loopback (FFmpeg's input), rewriting the payload type to the one the
 * consumer's SDP declares. The same shape as a mediasoup PlainTransport consumer.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { MediaKind, PublisherSession } from './engine.ts';

export interface RtpTarget {
  host: string;
  port: number;
  payloadType: number;
}

export class RtpForwarder {
  readonly #socket: Socket;
  readonly #target: RtpTarget;
  readonly #unsubscribe: () => void;
  #closed = false;
  #pendingSends = 0;
  packets = 0;

  constructor(publisher: PublisherSession, kind: MediaKind, target: RtpTarget) {
    this.#target = target;
    this.#socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', () => undefined); // ICMP port unreachable while FFmpeg restarts: not fatal
    this.#unsubscribe = publisher.subscribe(kind, (packet) => {
      if (this.#closed || packet.length < 12) return;
      const out = Buffer.from(packet);
      out[1] = (out[1]! & 0x80) | (target.payloadType & 0x7f);
      this.packets++;
      this.#socket.send(out, target.port, target.host);
    });
  }

  /**
   * Tells the consumer the stream has ended: an RTCP BYE on the RTP port and on
   * port + 1. FFmpeg's RTP demuxer reads BYE from every stream as end of input and
   * finishes its files at once, instead of waiting for its read timeout.
   */
  sendBye(): void {
    if (this.#closed) return;
    const target = this.#target;
    // 12 bytes (two SSRC entries): FFmpeg drops RTP/RTCP packets shorter than that.
    const bye = Buffer.from([0x82, 0xcb, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]);
    this.#pendingSends += 2;
    const sent = () => {
      if (--this.#pendingSends === 0 && this.#closed) this.#socket.close();
    };
    this.#socket.send(bye, target.port, target.host, sent);
    this.#socket.send(bye, target.port + 1, target.host, sent);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#pendingSends === 0) this.#socket.close();
  }
}
