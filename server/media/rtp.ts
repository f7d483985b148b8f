/**
 * Reading RTP packets (RFC 3550) and the video payloads onair carries: header
 * fields read in place (no copies; the result object may be reused), whether a
 * packet starts a keyframe (H.264 RFC 6184, VP8 RFC 7741), the parameter sets an
 * H.264 keyframe carries, and a rewritten copy for another stream. Pure.
 */
export interface RtpView {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Where the payload starts (after CSRCs and the header extension). */
  payloadOffset: number;
  /** Where the payload ends (before padding). */
  payloadEnd: number;
}

export function emptyRtpView(): RtpView {
  return {
    payloadType: 0,
    marker: false,
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 0,
    payloadOffset: 0,
    payloadEnd: 0,
  };
}

/**
 * Reads an RTP packet's header into `out` (reused across calls). Returns false
 * for anything that is not RTP version 2 or is truncated.
 */
export function readRtp(packet: Uint8Array, out: RtpView): boolean {
  const len = packet.length;
  if (len < 12) return false;
  const b0 = packet[0]!;
  if (b0 >> 6 !== 2) return false;
  const b1 = packet[1]!;
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (len < offset + 4) return false;
    offset += 4 + ((packet[offset + 2]! << 8) | packet[offset + 3]!) * 4;
  }
  let end = len;
  if (b0 & 0x20) end -= packet[len - 1]!;
  if (offset > end) return false;
  out.payloadType = b1 & 0x7f;
  out.marker = (b1 & 0x80) !== 0;
  out.sequenceNumber = (packet[2]! << 8) | packet[3]!;
  out.timestamp = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
  out.ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
  out.payloadOffset = offset;
  out.payloadEnd = end;
  return true;
}

/** a is newer than b in 16-bit sequence space (RFC 1982 serial arithmetic). */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/**
 * Whether an RTP payload starts a picture the decoder can start from: an H.264
 * IDR or SPS (single NAL, STAP-A, or the first FU-A fragment), or a VP8 keyframe
 * (start of partition 0 with the P bit clear, RFC 7741). Audio is always true.
 */
export function isKeyframeStart(codec: string, payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  switch (codec) {
    case 'H264': {
      const type = payload[0]! & 0x1f;
      if (type === 5 || type === 7) return true;
      if (type === 24) {
        // STAP-A: 16-bit sizes, each followed by a NAL unit.
        let i = 1;
        while (i + 2 < payload.length) {
          const size = (payload[i]! << 8) | payload[i + 1]!;
          const nal = (payload[i + 2] ?? 0) & 0x1f;
          if (nal === 5 || nal === 7) return true;
          if (size === 0) return false;
          i += 2 + size;
        }
        return false;
      }
      if (type === 28) {
        // FU-A: the start bit and the fragmented NAL's type.
        const fu = payload[1] ?? 0;
        return (fu & 0x80) !== 0 && (fu & 0x1f) === 5;
      }
      return false;
    }
    case 'VP8': {
      let i = 0;
      const b0 = payload[i++]!;
      // S (start of partition) and partition index 0.
      if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
      if (b0 & 0x80) {
        const x = payload[i++] ?? 0;
        if (x & 0x80) i += (payload[i] ?? 0) & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
        if (x & 0x40) i++; // TL0PICIDX
        if (x & 0x30) i++; // TID / KEYIDX
      }
      const header = payload[i];
      return header !== undefined && (header & 0x01) === 0;
    }
    default:
      return true;
  }
}

/** The header of an RTP packet as a new object, or undefined when it is not one. */
export function readRtpHeader(packet: Uint8Array): RtpView | undefined {
  const view = emptyRtpView();
  return readRtp(packet, view) ? view : undefined;
}

/** The SPS NAL units inside one H.264 RTP payload (single NAL or STAP-A). */
export function spsFromH264Payload(payload: Uint8Array): Uint8Array[] {
  const type = (payload[0] ?? 0) & 0x1f;
  if (type === 7) return [payload];
  if (type !== 24) return [];
  const out: Uint8Array[] = [];
  let i = 1;
  while (i + 2 <= payload.length) {
    const size = (payload[i]! << 8) | payload[i + 1]!;
    i += 2;
    if (size === 0 || i + size > payload.length) break;
    const nal = payload.subarray(i, i + size);
    if ((nal[0]! & 0x1f) === 7) out.push(nal);
    i += size;
  }
  return out;
}

/** Writes a new sequence number, timestamp, SSRC and payload type into a copy of the packet. */
export function rewriteRtp(
  packet: Uint8Array,
  to: { sequenceNumber: number; timestamp: number; ssrc: number; payloadType: number },
): Buffer {
  const out = Buffer.from(packet);
  out[1] = (out[1]! & 0x80) | (to.payloadType & 0x7f);
  out.writeUInt16BE(to.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(to.timestamp >>> 0, 4);
  out.writeUInt32BE(to.ssrc >>> 0, 8);
  return out;
}
