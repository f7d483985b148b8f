/**
 * Reading RTP packets (RFC 3550) and the video payloads onair carries: where the
 * payload starts, whether a packet starts a keyframe (H.264 RFC 6184, VP8 RFC
 * 7741), and the parameter sets an H.264 keyframe carries. Pure functions.
 */

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload in the packet. */
  payloadOffset: number;
}

/** The header of an RTP packet, or undefined when it is not one. */
export function readRtpHeader(packet: Uint8Array): RtpHeader | undefined {
  if (packet.length < 12 || (packet[0]! & 0xc0) !== 0x80) return undefined;
  const cc = packet[0]! & 0x0f;
  let offset = 12 + cc * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + ((packet[offset + 2]! << 8) | packet[offset + 3]!) * 4;
  }
  if (offset > packet.length) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payloadOffset: offset,
  };
}

/** The NAL unit types an H.264 RTP payload starts (single NAL, STAP-A, or the start of an FU-A). */
function h264NalTypes(payload: Uint8Array): number[] {
  const type = (payload[0] ?? 0) & 0x1f;
  if (type >= 1 && type <= 23) return [type];
  if (type === 24) {
    const out: number[] = [];
    let i = 1;
    while (i + 2 < payload.length) {
      const size = (payload[i]! << 8) | payload[i + 1]!;
      i += 2;
      if (size === 0 || i + size > payload.length) break;
      out.push(payload[i]! & 0x1f);
      i += size;
    }
    return out;
  }
  if (type === 28 && payload.length > 1 && payload[1]! & 0x80) return [payload[1]! & 0x1f];
  return [];
}

/**
 * Whether this payload begins a keyframe a decoder can start on: an H.264 IDR
 * slice or the SPS sent before it; a VP8 key frame's first partition.
 */
export function startsKeyframe(codec: string, payload: Uint8Array): boolean {
  if (codec === 'H264') {
    const types = h264NalTypes(payload);
    return types.includes(5) || types.includes(7);
  }
  if (codec === 'VP8') {
    let i = 0;
    const b0 = payload[i++] ?? 0;
    // S bit set and partition 0: the start of a frame.
    if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
    if (b0 & 0x80) {
      const x = payload[i++] ?? 0;
      if (x & 0x80) i += (payload[i] ?? 0) & 0x80 ? 2 : 1;
      if (x & 0x40) i++;
      if (x & 0x30) i++;
    }
    // The frame header's inverse key frame flag: 0 means a key frame.
    return i < payload.length && (payload[i]! & 0x01) === 0;
  }
  return false;
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
