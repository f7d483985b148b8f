/**
 * One RTMP publisher connection's media: FLV tags in (from the protocol layer),
 * a FLV byte stream out to its feed's remuxer. Before the remuxer starts it
 * learns what the stream holds: H.264 is required (its sequence header gives
 * the profile), audio is whatever arrives with the headers (AAC normally).
 */
import type { NmsAvPacket } from './rtmp-protocol.ts';
import type { RemuxFeed } from './remux-feed.ts';

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
const FLV_CODEC_H264 = 7;
/** Tags kept while waiting for the first video frame; past this the publisher sends no usable video. */
const MAX_WAITING_TAGS = 600;

/** An FLV tag (header, body, previous-tag size) for a packet. */
export function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const out = Buffer.alloc(11 + body.length + 4);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  body.copy(out, 11);
  out.writeUInt32BE(11 + body.length, 11 + body.length);
  return out;
}

export function flvHeader(hasAudio: boolean): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 0x01, hasAudio ? 0x05 : 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
}

/** The avc1 profile-level-id (6 hex digits) of an FLV AVC sequence header, or undefined. */
export function profileLevelIdOf(body: Buffer): string | undefined {
  // [0] frame type/codec, [1] AVCPacketType, [2..4] cts, [5..] AVCDecoderConfigurationRecord
  if (body.length < 9 || body[5] !== 1) return undefined;
  return body.subarray(6, 9).toString('hex');
}

export interface RtmpPublisherHooks {
  /** Every video frame (not sequence headers): the encoder's timestamp and whether it is a keyframe. */
  videoFrame?: (timestampMs: number, keyframe: boolean) => void;
}

export class RtmpPublisher {
  readonly feed: RemuxFeed;
  readonly #hooks: RtmpPublisherHooks;
  #waiting: { type: number; dts: number; body: Buffer }[] = [];
  #videoHeader = false;
  #audioSeen = false;
  #started = false;
  #lastKeyframe: number | undefined;

  constructor(feed: RemuxFeed, hooks: RtmpPublisherHooks = {}) {
    this.feed = feed;
    this.#hooks = hooks;
  }

  /** An FLV tag from the protocol layer (its buffer is reused after the call). */
  packet(p: NmsAvPacket): void {
    if (this.feed.ended) return;
    const type = p.codec_type;
    if (type !== FLV_AUDIO && type !== FLV_VIDEO) return; // script data (onMetaData): FFmpeg needs none
    const body = p.data.subarray(0, p.size);
    if (type === FLV_VIDEO) {
      const exHeader = (body[0]! & 0x80) !== 0;
      if (exHeader || p.codec_id !== FLV_CODEC_H264) {
        this.feed.close(
          exHeader
            ? 'enhanced RTMP (HEVC, AV1, VP9) is not supported: send H.264'
            : `video codec ${String(p.codec_id)} is not supported: send H.264`,
        );
        return;
      }
      if (p.flags === 2) {
        this.#videoHeader = true;
        this.feed.profileLevelId = profileLevelIdOf(body) ?? this.feed.profileLevelId;
      } else {
        const key = p.flags === 3;
        if (key) {
          if (this.#lastKeyframe !== undefined && p.dts > this.#lastKeyframe)
            this.feed.gopMs = p.dts - this.#lastKeyframe;
          this.#lastKeyframe = p.dts;
        }
        this.#hooks.videoFrame?.(p.dts, key);
      }
    } else {
      this.#audioSeen = true;
    }
    if (this.#started) {
      this.feed.write(flvTag(type, p.dts, body));
      return;
    }
    this.#waiting.push({ type, dts: p.dts, body: Buffer.from(body) });
    // Encoders send every sequence header before the first frame: by then the tracks are known.
    const firstFrame = type === FLV_VIDEO && p.flags !== 2;
    if (firstFrame && this.#videoHeader) {
      this.#started = true;
      this.feed.start('flv', this.#audioSeen);
      this.feed.write(flvHeader(this.#audioSeen));
      for (const t of this.#waiting) this.feed.write(flvTag(t.type, t.dts, t.body));
      this.#waiting = [];
    } else if (this.#waiting.length > MAX_WAITING_TAGS) {
      this.feed.close('no H.264 video arrived');
    }
  }
}
