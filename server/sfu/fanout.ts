/**
 * One subscription per source track, however many viewers: each RTP packet is
 * read and copied once, then handed to every viewer's forwarder. The copy is
 * what a viewer's retransmission buffer may keep (a source's buffers are only
 * valid during its callback). Engine-independent.
 */
import { emptyRtpView, isKeyframeStart, readRtp } from '../media/rtp.ts';
import type { MediaSource } from '../media/source.ts';

/** A packet as viewers get it: header fields read once, the payload copied once. */
export interface FanoutPacket {
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  /** The payload without padding; empty for padding-only packets. */
  payload: Buffer;
  /** Starts a picture a decoder can begin with (always true for audio). */
  keyframe: boolean;
}

export type FanoutListener = (packet: FanoutPacket) => void;

class TrackFanout {
  readonly listeners = new Set<FanoutListener>();
  readonly #unsubscribe: () => void;

  constructor(source: MediaSource, trackId: string, onError: (err: unknown) => void) {
    const track = source.tracks.find((t) => t.id === trackId);
    const codec = track?.codec.name ?? '';
    const video = track?.kind === 'video';
    const view = emptyRtpView();
    this.#unsubscribe = source.subscribe(trackId, (buf) => {
      if (!readRtp(buf, view)) return;
      const payload = Buffer.from(buf.subarray(view.payloadOffset, view.payloadEnd));
      const packet: FanoutPacket = {
        sequenceNumber: view.sequenceNumber,
        timestamp: view.timestamp,
        marker: view.marker,
        payload,
        keyframe: video ? isKeyframeStart(codec, payload) : true,
      };
      for (const l of this.listeners) {
        try {
          l(packet);
        } catch (err) {
          onError(err);
        }
      }
    });
  }

  close(): void {
    this.listeners.clear();
    this.#unsubscribe();
  }
}

/** The fan-outs of one router (one channel): made on the first listener, dropped after the last. */
export class FanoutRegistry {
  readonly #fanouts = new Map<MediaSource, Map<string, TrackFanout>>();
  readonly #hooked = new WeakSet<MediaSource>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  /** Listens to a source track's packets; returns the function that stops listening. */
  listen(source: MediaSource, trackId: string, listener: FanoutListener): () => void {
    let bySource = this.#fanouts.get(source);
    if (!bySource) {
      this.#fanouts.set(source, (bySource = new Map<string, TrackFanout>()));
      if (!this.#hooked.has(source)) {
        this.#hooked.add(source);
        // An ended source delivers nothing more: forget it.
        source.on('ended', () => this.#drop(source));
      }
    }
    let fanout = bySource.get(trackId);
    if (!fanout) bySource.set(trackId, (fanout = new TrackFanout(source, trackId, this.#onError)));
    fanout.listeners.add(listener);
    const f = fanout;
    return () => {
      f.listeners.delete(listener);
      if (f.listeners.size > 0) return;
      f.close();
      const current = this.#fanouts.get(source);
      if (current?.get(trackId) === f) current.delete(trackId);
      if (current?.size === 0) this.#fanouts.delete(source);
    };
  }

  /** Sources with at least one listener (for tests and stats). */
  get size(): number {
    return this.#fanouts.size;
  }

  #drop(source: MediaSource): void {
    for (const f of this.#fanouts.get(source)?.values() ?? []) f.close();
    this.#fanouts.delete(source);
  }

  close(): void {
    for (const source of [...this.#fanouts.keys()]) this.#drop(source);
  }
}
