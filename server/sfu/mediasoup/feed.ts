/**
 * A feed: a source brought into mediasoup once, for every consumer that
 * expects the same payload types. The channel's source is a Node-level
 * MediaSource (a failover switcher over WHIP, RTMP and SRT inputs and the
 * slate), and a mediasoup Consumer is bound to one Producer and its SSRC, so
 * onair keeps the continuity in Node (viewer-forwarder.ts: start at a keyframe,
 * sequence numbers and timestamps continuous across sources) and hands each
 * packet once to a DirectTransport Producer. Everything per consumer — SRTP,
 * sending, NACK retransmissions, RTCP — happens in the worker.
 *
 * A Consumer sends on its router's payload types; the feed's router is made
 * with the payload types its consumers expect (sdp-translation.ts
 * routerCodecsFor), so a viewer receives on the numbers of its own offer and
 * FFmpeg on those of its SDP. A keyframe request of any consumer (a viewer's
 * PLI/FIR, a new consumer, the FFmpeg link's timer) reaches the producer, which
 * sends it to the DirectTransport as RTCP: it becomes the source's (gated)
 * keyframe request.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { MediaKind, MediaSource } from '../../media/source.ts';
import type { FanoutRegistry } from '../fanout.ts';
import { ViewerForwarder } from '../viewer-forwarder.ts';
import type { DirectTransport, Producer, Router, Worker } from './mediasoup-api.ts';
import { routerCodecsFor, sourceCodecParameters, type FeedTrack } from './sdp-translation.ts';

/** RTCP payload-specific feedback (206): FMT 1 is PLI, FMT 4 is FIR (RFC 4585, RFC 5104). */
export function asksForKeyframe(rtcp: Buffer): boolean {
  let offset = 0;
  while (offset + 4 <= rtcp.length) {
    const fmt = rtcp[offset]! & 0x1f;
    const pt = rtcp[offset + 1]!;
    if (pt === 206 && (fmt === 1 || fmt === 4)) return true;
    offset += (rtcp.readUInt16BE(offset + 2) + 1) * 4;
  }
  return false;
}

/** A 12-byte RTP header and the payload: what the forwarder hands the producer. */
function rtpPacket(
  pt: number,
  ssrc: number,
  seq: number,
  ts: number,
  marker: boolean,
  payload: Buffer,
): Buffer {
  const buf = Buffer.allocUnsafe(12 + payload.length);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(ts >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(buf, 12);
  return buf;
}

export class Feed {
  readonly key: string;
  readonly router: Router;
  readonly tracks: readonly FeedTrack[];
  readonly #transport: DirectTransport;
  readonly #producers: Partial<Record<MediaKind, Producer>>;
  readonly #forwarder: ViewerForwarder;
  readonly #onClose: () => void;
  #users = 0;
  #closed = false;

  private constructor(
    key: string,
    router: Router,
    transport: DirectTransport,
    producers: Partial<Record<MediaKind, Producer>>,
    tracks: readonly FeedTrack[],
    fanouts: FanoutRegistry,
    onClose: () => void,
  ) {
    this.key = key;
    this.router = router;
    this.tracks = tracks;
    this.#transport = transport;
    this.#producers = producers;
    this.#onClose = onClose;
    const ssrcs = new Map(tracks.map((t) => [t.kind, producers[t.kind]!.rtpParameters.encodings![0]!.ssrc!]));
    const pts = new Map(tracks.map((t) => [t.kind, t.payloadType]));
    this.#forwarder = new ViewerForwarder({
      tracks: tracks.map((t) => ({ kind: t.kind, codec: t.codec })),
      fanouts,
      target: {
        send: (kind, seq, ts, marker, payload) => {
          const producer = this.#producers[kind];
          if (!producer || producer.closed) return false;
          producer.send(rtpPacket(pts.get(kind)!, ssrcs.get(kind)!, seq, ts, marker, payload));
          return true;
        },
      },
    });
    this.#forwarder.start();
    transport.on('rtcp', (packet) => {
      if (asksForKeyframe(packet)) this.#forwarder.requestKeyframe();
    });
  }

  /** A router with exactly these codecs on `worker`, a DirectTransport and a producer per track. */
  static async open(
    worker: Worker,
    key: string,
    tracks: readonly FeedTrack[],
    fanouts: FanoutRegistry,
    log: Logger,
    onClose: () => void,
  ): Promise<Feed> {
    const router = await worker.createRouter({ mediaCodecs: routerCodecsFor(tracks) });
    try {
      const transport = await router.createDirectTransport();
      const producers: Partial<Record<MediaKind, Producer>> = {};
      for (const t of tracks) {
        producers[t.kind] = await transport.produce({
          kind: t.kind,
          rtpParameters: {
            codecs: [sourceCodecParameters(t.codec, t.payloadType)],
            encodings: [{ ssrc: randomInt(1, 0xffffffff) }],
            rtcp: { cname: 'onair', reducedSize: true },
          },
        });
      }
      const feed = new Feed(key, router, transport, producers, tracks, fanouts, onClose);
      router.on('workerclose', () => feed.close());
      log.debug({ feed: key }, 'mediasoup feed opened');
      return feed;
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  producerId(kind: MediaKind): string | undefined {
    return this.#producers[kind]?.id;
  }

  get source(): MediaSource | undefined {
    return this.#forwarder.source;
  }

  get packetsForwarded(): number {
    return this.#forwarder.counters.packetsSent;
  }

  /** Feeds every consumer from `source` (continuously); false when it sends other codecs. */
  setSource(source: MediaSource | undefined): boolean {
    return this.#forwarder.setSource(source);
  }

  accepts(source: MediaSource): boolean {
    return this.#forwarder.accepts(source);
  }

  acquire(): void {
    this.#users++;
  }

  /** A consumer is gone; the last one closes the feed. */
  release(): void {
    if (--this.#users <= 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forwarder.close();
    this.#transport.close();
    this.router.close();
    this.#onClose();
  }
}
