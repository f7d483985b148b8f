/**
 * The one SDP parser: WHIP and WHEP offers (sdp.ts reads them through it) and
 * the mediasoup translation (sfu/mediasoup/sdp-translation.ts). Pure.
 */
import { MediaError } from './errors.ts';

export interface SdpFeedback {
  type: string;
  parameter?: string;
}

export interface SdpCodec {
  payloadType: number;
  /** Encoding name as written in the rtpmap (case kept): H264, VP8, opus, rtx. */
  name: string;
  clockRate: number;
  channels: number | undefined;
  /** The fmtp line's value, '' when none. */
  fmtp: string;
  rtcpFeedback: SdpFeedback[];
}

export interface SdpSection {
  index: number;
  kind: string;
  port: number;
  /** `a=bundle-only`: port 0 then means "on the BUNDLE transport", not "rejected" (JSEP §5.2.1). */
  bundleOnly: boolean;
  protocol: string;
  /** The m-line's format list, as written (kept when the section is rejected). */
  formats: string[];
  mid: string | undefined;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  codecs: SdpCodec[];
  extensions: { id: number; uri: string }[];
  /** SSRCs in order of appearance, with their cname. */
  ssrcs: { ssrc: number; cname: string | undefined }[];
  ssrcGroups: { semantics: string; ssrcs: number[] }[];
  rids: string[];
  rtcpMux: boolean;
  rtcpRsize: boolean;
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  fingerprints: { algorithm: string; value: string }[];
  setup: string | undefined;
}

export interface SdpOffer {
  sections: SdpSection[];
  /** Session-level ICE and DTLS attributes (sections may override). */
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  fingerprints: { algorithm: string; value: string }[];
  setup: string | undefined;
}

/**
 * Whether a section carries media: it has a port, or port 0 with `a=bundle-only` (an offer with
 * bundle policy max-bundle, as GStreamer's webrtcbin sends, rides every section after the first on
 * the first's transport). Port 0 alone rejects the section.
 */
export function inUse(section: { port: number; bundleOnly: boolean }): boolean {
  return section.port !== 0 || section.bundleOnly;
}

export function sdpLines(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * Parses an SDP into its sessions and sections: what WHIP and WHEP inspect and
 * what the mediasoup translation needs. Throws invalid_sdp on text without
 * "v=0" or with a malformed m-line; other lines it does not know are skipped.
 */
export function parseSdp(sdp: string): SdpOffer {
  const lines = sdpLines(sdp);
  if (!lines[0]?.startsWith('v=0')) throw new MediaError('invalid_sdp', 'SDP offer must start with "v=0"');
  const offer: SdpOffer = {
    sections: [],
    iceUfrag: undefined,
    icePwd: undefined,
    fingerprints: [],
    setup: undefined,
  };
  let s: SdpSection | undefined;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^m=(\w+) (\d+)(?:\/\d+)? ([\w/]+)((?: \S+)*)$/.exec(line))) {
      const formats = (m[4] ?? '').trim().split(' ').filter(Boolean);
      s = {
        index: offer.sections.length,
        kind: m[1]!,
        port: Number(m[2]),
        bundleOnly: false,
        protocol: m[3]!,
        formats,
        mid: undefined,
        direction: 'sendrecv',
        codecs: formats
          .filter((f) => /^\d+$/.test(f))
          .map((f) => ({
            payloadType: Number(f),
            name: '',
            clockRate: 0,
            channels: undefined,
            fmtp: '',
            rtcpFeedback: [],
          })),
        extensions: [],
        ssrcs: [],
        ssrcGroups: [],
        rids: [],
        rtcpMux: false,
        rtcpRsize: false,
        iceUfrag: undefined,
        icePwd: undefined,
        fingerprints: [],
        setup: undefined,
      };
      offer.sections.push(s);
      continue;
    }
    if (line.startsWith('m=')) {
      throw new MediaError('invalid_sdp', `malformed m-line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if ((m = /^a=ice-ufrag:(\S+)/.exec(line))) {
      if (s) s.iceUfrag = m[1];
      else offer.iceUfrag = m[1];
    } else if ((m = /^a=ice-pwd:(\S+)/.exec(line))) {
      if (s) s.icePwd = m[1];
      else offer.icePwd = m[1];
    } else if ((m = /^a=fingerprint:(\S+) (\S+)/.exec(line))) {
      const fp = { algorithm: m[1]!.toLowerCase(), value: m[2]!.toUpperCase() };
      (s ? s.fingerprints : offer.fingerprints).push(fp);
    } else if ((m = /^a=setup:(\w+)/.exec(line))) {
      if (s) s.setup = m[1];
      else offer.setup = m[1];
    } else if (!s) {
      continue;
    } else if ((m = /^a=rtpmap:(\d+) ([\w.-]+)\/(\d+)(?:\/(\d+))?/.exec(line))) {
      const c = s.codecs.find((x) => x.payloadType === Number(m![1]));
      if (c) {
        c.name = m[2]!;
        c.clockRate = Number(m[3]);
        c.channels = m[4] ? Number(m[4]) : undefined;
      }
    } else if ((m = /^a=fmtp:(\d+) (.*)$/.exec(line))) {
      const c = s.codecs.find((x) => x.payloadType === Number(m![1]));
      if (c) c.fmtp = m[2]!.trim();
    } else if ((m = /^a=rtcp-fb:(\d+|\*) (\S+)(?: (\S+))?/.exec(line))) {
      const fb: SdpFeedback = m[3] ? { type: m[2]!, parameter: m[3] } : { type: m[2]! };
      for (const c of s.codecs) if (m[1] === '*' || c.payloadType === Number(m[1])) c.rtcpFeedback.push(fb);
    } else if ((m = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(line))) {
      s.extensions.push({ id: Number(m[1]), uri: m[2]! });
    } else if ((m = /^a=ssrc:(\d+) (\w[\w-]*)(?::(.*))?$/.exec(line))) {
      const ssrc = Number(m[1]);
      let entry = s.ssrcs.find((x) => x.ssrc === ssrc);
      if (!entry) s.ssrcs.push((entry = { ssrc, cname: undefined }));
      if (m[2] === 'cname') entry.cname = m[3]?.trim();
    } else if ((m = /^a=ssrc-group:(\S+)((?: \d+)+)$/.exec(line))) {
      s.ssrcGroups.push({ semantics: m[1]!, ssrcs: m[2]!.trim().split(' ').map(Number) });
    } else if ((m = /^a=rid:(\S+) send/.exec(line))) {
      s.rids.push(m[1]!);
    } else if ((m = /^a=mid:(\S+)/.exec(line))) {
      s.mid = m[1];
    } else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      s.direction = line.slice(2) as SdpSection['direction'];
    } else if (line === 'a=rtcp-mux') {
      s.rtcpMux = true;
    } else if (line === 'a=rtcp-rsize') {
      s.rtcpRsize = true;
    } else if (line === 'a=bundle-only') {
      s.bundleOnly = true;
    }
  }
  for (const section of offer.sections) section.codecs = section.codecs.filter((c) => c.name !== '');
  return offer;
}
