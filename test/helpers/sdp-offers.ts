/**
 * SDP offers for WHIP tests: real ones made by werift (so the server can
 * negotiate them) and hand-written ones for the error cases (the server rejects
 * them before any WebRTC work, so they only need to parse).
 */
import { createPublisherPeer } from './whip-publisher.ts';

export interface RealOffer {
  sdp: string;
  close(): Promise<void>;
}

/** A complete (non-trickle) werift offer: one sendonly video (H.264 or VP8) and, by default, Opus. */
export async function weriftOffer(
  opts: { codec?: 'H264' | 'VP8'; audio?: boolean } = {},
): Promise<RealOffer> {
  const { pc, offer } = await createPublisherPeer(opts);
  return { sdp: offer, close: () => pc.close() };
}

export interface HandMedia {
  kind: 'video' | 'audio' | 'application';
  /** rtpmap entries, e.g. ['H264/90000 packetization-mode=1'] (fmtp after a space). */
  codecs: string[];
  direction?: 'sendonly' | 'sendrecv' | 'recvonly' | 'inactive';
}

/** A syntactically valid offer with the given media sections (not negotiable: no ICE/DTLS). */
export function handOffer(media: HandMedia[]): string {
  const lines = ['v=0', 'o=- 4242 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
  lines.push(`a=group:BUNDLE ${media.map((_, i) => i).join(' ')}`);
  let pt = 96;
  media.forEach((m, i) => {
    const pts = m.codecs.map(() => pt++);
    lines.push(
      `m=${m.kind} 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`,
      'c=IN IP4 0.0.0.0',
      `a=mid:${i}`,
      `a=${m.direction ?? 'sendonly'}`,
      'a=rtcp-mux',
    );
    m.codecs.forEach((c, j) => {
      const [map, fmtp] = c.split(' ');
      lines.push(`a=rtpmap:${pts[j]} ${map}`);
      if (fmtp) lines.push(`a=fmtp:${pts[j]} ${fmtp}`);
    });
  });
  return lines.join('\r\n') + '\r\n';
}

export const H264 = 'H264/90000 profile-level-id=42e01f;packetization-mode=1';
export const VP8 = 'VP8/90000';
export const OPUS = 'opus/48000/2';
