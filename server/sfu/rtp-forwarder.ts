/**
 * A plain-RTP consumer: sends one track of a publisher to a UDP port on
 * loopback (FFmpeg's input), rewriting the payload type to the one the
 * consumer's SDP declares. The same shape as a mediasoup PlainTransport consumer.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { MediaKind, PublisherSession } from './engine.ts';

export class RtpForwarder {
  readonly #socket: Socket;
  readonly #unsubscribe: () => void;
  #closed = false;
  packets = 0;

  constructor(publisher: PublisherSession, kind: MediaKind, target: { host: string; port: number; payloadType: number }) {
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#socket.close();
  }
}
