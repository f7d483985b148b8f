/**
 * Reads the publisher's picture size and frame rate from the RTP itself: H.264
 * SPS (single NAL or STAP-A) or the VP8 keyframe header, and frames per second
 * from distinct RTP timestamps. Pure parsing; no decoding.
 */
import { spsFromH264Payload } from './rtp.ts';

export { spsFromH264Payload };

export interface VideoFormat {
  width: number;
  height: number;
}

class BitReader {
  #buf: Uint8Array;
  #pos = 0;
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }
  bit(): number {
    const byte = this.#buf[this.#pos >> 3];
    if (byte === undefined) throw new RangeError('SPS truncated');
    const b = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError('bad exp-Golomb code');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** Removes emulation-prevention bytes (00 00 03 → 00 00). */
function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]!);
  }
  return Uint8Array.from(out);
}

/** Picture size from an H.264 SPS NAL unit (with its 1-byte header). */
export function parseH264Sps(nal: Uint8Array): VideoFormat {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.bits(8);
  r.bits(16); // constraint flags + level
  r.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) r.bit();
    r.ue(); // bit depth luma
    r.ue(); // bit depth chroma
    r.bit(); // qpprime_y_zero_transform_bypass
    if (r.bit()) {
      for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) {
        if (!r.bit()) continue;
        let last = 8;
        let next = 8;
        for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_allowed
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit();
  r.bit(); // direct_8x8_inference
  let [cl, cr, ct, cb] = [0, 0, 0, 0];
  if (r.bit()) {
    cl = r.ue();
    cr = r.ue();
    ct = r.ue();
    cb = r.ue();
  }
  const subW = chromaFormat === 1 || chromaFormat === 2 ? 2 : 1;
  const subH = chromaFormat === 1 ? 2 : 1;
  const cropX = chromaFormat === 0 ? 1 : subW;
  const cropY = (chromaFormat === 0 ? 1 : subH) * (2 - frameMbsOnly);
  return {
    width: widthMbs * 16 - (cl + cr) * cropX,
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - (ct + cb) * cropY,
  };
}

/** Size from a VP8 RTP payload that starts a keyframe (RFC 7741 descriptor + frame header). */
export function vp8KeyframeSize(payload: Uint8Array): VideoFormat | undefined {
  let i = 0;
  const b0 = payload[i++] ?? 0;
  const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
  if (!start) return undefined;
  if (b0 & 0x80) {
    const x = payload[i++] ?? 0;
    if (x & 0x80) i += (payload[i] ?? 0) & 0x80 ? 2 : 1; // PictureID
    if (x & 0x40) i++; // TL0PICIDX
    if (x & 0x30) i++; // TID/KEYIDX
  }
  const f = payload.subarray(i);
  if (f.length < 10 || (f[0]! & 0x01) !== 0) return undefined; // not a keyframe
  if (f[3] !== 0x9d || f[4] !== 0x01 || f[5] !== 0x2a) return undefined;
  return { width: (f[6]! | (f[7]! << 8)) & 0x3fff, height: (f[8]! | (f[9]! << 8)) & 0x3fff };
}

/** Watches video RTP packets; keeps the latest size and a frames-per-second estimate. */
export class VideoProbe {
  readonly #codec: string;
  format: VideoFormat | undefined;
  #frames: number[] = [];
  #lastTs = -1;

  constructor(codec: string) {
    this.#codec = codec.toUpperCase();
  }

  push(packet: Buffer, now = Date.now()): void {
    if (packet.length < 13) return;
    const cc = packet[0]! & 0x0f;
    const hasExt = (packet[0]! & 0x10) !== 0;
    let off = 12 + cc * 4;
    if (hasExt) {
      if (packet.length < off + 4) return;
      off += 4 + packet.readUInt16BE(off + 2) * 4;
    }
    if (off >= packet.length) return;
    const ts = packet.readUInt32BE(4);
    if (ts !== this.#lastTs) {
      this.#lastTs = ts;
      this.#frames.push(now);
    }
    while (this.#frames.length > 0 && now - this.#frames[0]! > 2000) this.#frames.shift();
    const payload = packet.subarray(off);
    try {
      if (this.#codec === 'H264') {
        for (const sps of spsFromH264Payload(payload)) this.format = parseH264Sps(sps);
      } else if (this.#codec === 'VP8') {
        this.format = vp8KeyframeSize(payload) ?? this.format;
      }
    } catch {
      // A malformed SPS from a publisher is not our problem to crash on.
    }
  }

  /** Frames per second over the last two seconds. */
  fps(now = Date.now()): number | undefined {
    const recent = this.#frames.filter((t) => now - t <= 2000);
    return recent.length < 2 ? undefined : Math.round((recent.length / 2) * 10) / 10;
  }
}
