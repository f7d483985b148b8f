/**
 * SDP ↔ mediasoup RtpParameters, as pure functions (no mediasoup, no sockets),
 * so they are unit-tested on real offers everywhere.
 *
 * mediasoup speaks ORTC: a transport's ICE and DTLS parameters, and per track
 * the RtpParameters a Producer receives or a Consumer sends. WHIP and WHEP
 * speak SDP offer/answer. Here:
 *
 * - WHIP: the publisher's offer → for each track a Producer's RtpParameters
 *   (the offer's own payload types, SSRCs, header extension ids: those are what
 *   arrive on the wire), and the answer built from the transport's ICE/DTLS
 *   parameters and candidates (recvonly, only the chosen codec and its RTX).
 * - WHEP: a viewer's planned tracks (viewer-plan.ts) → the RtpCapabilities to
 *   consume with, and the answer built from each Consumer's RtpParameters
 *   (sendonly, the consumer's SSRC, on the payload type the viewer offered).
 *
 * A Consumer sends on its router's payload types. So that a viewer receives on
 * the payload types it offered (browsers expect the numbers of their own
 * offer), the router the viewer consumes from is made with those numbers
 * (routerCodecsFor).
 */
import { MediaError } from '../../media/errors.ts';
import { inUse, parseSdp, type SdpCodec, type SdpOffer, type SdpSection } from '../../media/sdp-parser.ts';
import type { OfferedCodec } from '../../media/sdp.ts';
import type { MediaKind, RtpCodec } from '../../media/source.ts';
import type {
  DtlsParameters,
  FingerprintAlgorithm,
  IceCandidate,
  IceParameters,
  RtcpFeedback,
  RtpCapabilities,
  RtpCodecCapability,
  RtpCodecParameters,
  RtpHeaderExtensionParameters,
  RtpParameters,
} from './mediasoup-api.ts';

// ── Parsing: the one SDP parser (media/sdp-parser.ts) ───────────────────

/**
 * fmtp text → mediasoup codec parameters: numeric values as numbers (as
 * mediasoup compares them), profile-level-id always as text (it is hex).
 */
export function fmtpToParameters(fmtp: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    out[key] = key !== 'profile-level-id' && /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

export function parametersToFmtp(parameters: Record<string, string | number> | undefined): string {
  return Object.entries(parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
}

function mimeType(kind: string, name: string): string {
  return `${kind}/${name.toUpperCase() === 'OPUS' ? 'opus' : name}`;
}

// ── WHIP: the publisher's offer → producers, and the answer ─────────────

/** RTCP feedback mediasoup acts on for a producer (and that onair answers). */
const PRODUCER_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

/** Header extensions kept for producers: the ones mediasoup reads. */
const PRODUCER_EXTENSIONS: Record<MediaKind, readonly string[]> = {
  video: [
    'urn:ietf:params:rtp-hdrext:sdes:mid',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'urn:3gpp:video-orientation',
    'urn:ietf:params:rtp-hdrext:toffset',
  ],
  audio: [
    'urn:ietf:params:rtp-hdrext:sdes:mid',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  ],
};

const MID_EXTENSION = 'urn:ietf:params:rtp-hdrext:sdes:mid';

function feedbackKey(fb: RtcpFeedback): string {
  return fb.parameter ? `${fb.type} ${fb.parameter}` : fb.type;
}

export interface ProducerPlan {
  kind: MediaKind;
  /** The section's index in the offer. */
  index: number;
  mid: string;
  rtpParameters: RtpParameters;
  /** The negotiated codec as a source track declares it. */
  codec: RtpCodec;
}

export interface PublisherPlan {
  offer: SdpOffer;
  video: ProducerPlan;
  audio: ProducerPlan | undefined;
  /** The publisher's DTLS parameters for `transport.connect()`: it is the DTLS client unless it said passive. */
  remoteDtls: DtlsParameters;
}

function isH264Mode1(c: SdpCodec): boolean {
  return (
    c.name.toUpperCase() === 'H264' &&
    c.clockRate === 90000 &&
    String(fmtpToParameters(c.fmtp)['packetization-mode']) === '1'
  );
}

function primaryCodec(
  section: SdpSection,
  kind: MediaKind,
  videoCodec: 'H264' | 'VP8',
): SdpCodec | undefined {
  if (kind === 'audio')
    return section.codecs.find((c) => c.name.toUpperCase() === 'OPUS' && c.clockRate === 48000);
  // The offerer's order is its preference: the first acceptable one wins.
  return section.codecs.find((c) =>
    videoCodec === 'H264' ? isH264Mode1(c) : c.name.toUpperCase() === 'VP8' && c.clockRate === 90000,
  );
}

function producerPlan(section: SdpSection, kind: MediaKind, videoCodec: 'H264' | 'VP8'): ProducerPlan {
  const primary = primaryCodec(section, kind, videoCodec);
  if (!primary) {
    throw new MediaError(
      'unsupported_offer',
      kind === 'audio'
        ? 'no acceptable audio codec: offer Opus'
        : `no acceptable video codec: offer ${videoCodec === 'H264' ? 'H.264 (packetization-mode=1)' : 'VP8'}`,
    );
  }
  const mid = section.mid ?? String(section.index);
  const codec: RtpCodecParameters = {
    mimeType: mimeType(kind, primary.name),
    payloadType: primary.payloadType,
    clockRate: primary.clockRate,
    ...(kind === 'audio' ? { channels: primary.channels ?? 2 } : {}),
    parameters: fmtpToParameters(primary.fmtp),
    rtcpFeedback: primary.rtcpFeedback.filter((fb) => PRODUCER_FEEDBACK.has(feedbackKey(fb))),
  };
  const rtx = section.codecs.find(
    (c) =>
      c.name.toLowerCase() === 'rtx' && String(fmtpToParameters(c.fmtp).apt) === String(primary.payloadType),
  );
  const codecs: RtpCodecParameters[] = [codec];
  const headerExtensions: RtpHeaderExtensionParameters[] = section.extensions
    .filter((e) => PRODUCER_EXTENSIONS[kind].includes(e.uri))
    .map((e) => ({ uri: e.uri, id: e.id }));

  // The media SSRC, and its RTX SSRC from the FID group; without SSRCs (simulcast
  // offers, some encoders) mediasoup matches the stream by its MID header extension.
  const fid = section.ssrcGroups.find((g) => g.semantics === 'FID');
  const ssrc = fid?.ssrcs[0] ?? section.ssrcs[0]?.ssrc;
  const rtxSsrc = fid?.ssrcs[1];
  const rtxCodec = (r: SdpCodec): RtpCodecParameters => ({
    mimeType: `${kind}/rtx`,
    payloadType: r.payloadType,
    clockRate: r.clockRate,
    parameters: { apt: primary.payloadType },
    rtcpFeedback: [],
  });
  let encoding: NonNullable<RtpParameters['encodings']>[number];
  if (ssrc !== undefined) {
    encoding = { ssrc };
    if (rtx && rtxSsrc !== undefined) {
      encoding.rtx = { ssrc: rtxSsrc };
      codecs.push(rtxCodec(rtx));
    }
  } else if (headerExtensions.some((e) => e.uri === MID_EXTENSION)) {
    encoding = {};
    if (rtx) codecs.push(rtxCodec(rtx));
  } else {
    throw new MediaError(
      'unsupported_offer',
      `the ${kind} section declares no SSRC (a=ssrc) and no MID header extension: its stream cannot be identified`,
    );
  }
  const cname = section.ssrcs.find((x) => x.ssrc === ssrc)?.cname ?? section.ssrcs[0]?.cname;
  return {
    kind,
    index: section.index,
    mid,
    rtpParameters: {
      mid,
      codecs,
      headerExtensions,
      encodings: [encoding],
      rtcp: { ...(cname ? { cname } : {}), reducedSize: section.rtcpRsize },
    },
    codec: {
      kind,
      name: primary.name.toUpperCase(),
      payloadType: primary.payloadType,
      clockRate: primary.clockRate,
      ...(kind === 'audio' ? { channels: 2 } : {}),
      fmtp: primary.fmtp,
    },
  };
}

function remoteDtlsParameters(offer: SdpOffer, section: SdpSection): DtlsParameters {
  const fingerprints = section.fingerprints.length > 0 ? section.fingerprints : offer.fingerprints;
  const known: FingerprintAlgorithm[] = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'];
  const usable = fingerprints.filter((f) => known.includes(f.algorithm as FingerprintAlgorithm));
  if (usable.length === 0) {
    throw new MediaError(
      'unsupported_offer',
      'the offer has no usable a=fingerprint (sha-256 or another SHA)',
    );
  }
  const setup = section.setup ?? offer.setup ?? 'actpass';
  return {
    // We answer passive (DTLS server) unless the offerer insists on being passive itself.
    role: setup === 'passive' ? 'server' : 'client',
    fingerprints: usable.map((f) => ({ algorithm: f.algorithm as FingerprintAlgorithm, value: f.value })),
  };
}

/**
 * The producers of a WHIP offer: its one video section (and audio section, when
 * the publisher sends audio), each restricted to the codec onair takes.
 */
export function planPublisher(
  sdp: string,
  opts: { videoCodec: 'H264' | 'VP8'; withAudio: boolean },
): PublisherPlan {
  const offer = parseSdp(sdp);
  const live = (kind: string) =>
    offer.sections.find(
      (s) => s.kind === kind && inUse(s) && (s.direction === 'sendonly' || s.direction === 'sendrecv'),
    );
  const videoSection = live('video');
  if (!videoSection) throw new MediaError('unsupported_offer', 'the offer has no video track to receive');
  const video = producerPlan(videoSection, 'video', opts.videoCodec);
  const audioSection = opts.withAudio ? live('audio') : undefined;
  const audio = audioSection ? producerPlan(audioSection, 'audio', opts.videoCodec) : undefined;
  return { offer, video, audio, remoteDtls: remoteDtlsParameters(offer, videoSection) };
}

/** What the answer needs from the server's WebRtcTransport. */
export interface LocalTransport {
  iceParameters: IceParameters;
  iceCandidates: readonly IceCandidate[];
  dtlsParameters: DtlsParameters;
}

function candidateLine(c: IceCandidate): string {
  const tcp = c.protocol === 'tcp' ? ` tcptype ${c.tcpType ?? 'passive'}` : '';
  return `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ host${tcp}`;
}

function fingerprintLine(dtls: DtlsParameters): string {
  const fp = dtls.fingerprints.find((f) => f.algorithm === 'sha-256') ?? dtls.fingerprints[0];
  if (!fp) throw new RangeError('the transport has no DTLS fingerprint');
  return `a=fingerprint:${fp.algorithm} ${fp.value}`;
}

function codecLines(c: RtpCodecParameters, fmtp: string | undefined): string[] {
  const name = c.mimeType.split('/')[1] ?? '';
  const lines = [`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`];
  for (const fb of c.rtcpFeedback ?? [])
    lines.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
  const f = fmtp ?? parametersToFmtp(c.parameters);
  if (f) lines.push(`a=fmtp:${c.payloadType} ${f}`);
  return lines;
}

interface AnswerTrack {
  index: number;
  mid: string;
  kind: MediaKind;
  direction: 'recvonly' | 'sendonly';
  codecs: RtpCodecParameters[];
  /** fmtp per payload type, when it must be written as offered (not from parameters). */
  fmtp?: ReadonlyMap<number, string>;
  extensions: RtpHeaderExtensionParameters[];
  rtcpRsize: boolean;
  /** Sending sections: the SSRC (and RTX SSRC) the viewer will receive, and its cname. */
  send?: { ssrc: number; rtxSsrc?: number; cname: string; streamId: string; trackId: string };
}

function buildAnswer(
  offer: SdpOffer,
  tracks: readonly AnswerTrack[],
  local: LocalTransport,
  remoteDtls: DtlsParameters,
  sessionId: string,
): string {
  const accepted = tracks.map((t) => t.mid);
  const lines = [
    'v=0',
    `o=- ${sessionId} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    // mediasoup is ICE-lite: the client does the checks.
    'a=ice-lite',
    `a=group:BUNDLE ${accepted.join(' ')}`,
    'a=msid-semantic: WMS *',
  ];
  const setup = remoteDtls.role === 'server' ? 'active' : 'passive';
  const first = local.iceCandidates[0];
  for (const section of offer.sections) {
    const t = tracks.find((x) => x.index === section.index);
    if (!t) {
      // Rejected: port 0, the offer's own m-line otherwise (RFC 3264 §6).
      lines.push(`m=${section.kind} 0 ${section.protocol} ${section.formats.join(' ') || '0'}`);
      lines.push('c=IN IP4 0.0.0.0');
      if (section.mid !== undefined) lines.push(`a=mid:${section.mid}`);
      lines.push('a=inactive');
      continue;
    }
    lines.push(
      `m=${t.kind} ${first?.port ?? 9} UDP/TLS/RTP/SAVPF ${t.codecs.map((c) => c.payloadType).join(' ')}`,
    );
    lines.push(`c=IN IP4 ${first && !first.address.includes(':') ? first.address : '0.0.0.0'}`);
    lines.push(`a=mid:${t.mid}`);
    lines.push(`a=${t.direction}`);
    lines.push(`a=ice-ufrag:${local.iceParameters.usernameFragment}`);
    lines.push(`a=ice-pwd:${local.iceParameters.password}`);
    lines.push(fingerprintLine(local.dtlsParameters));
    lines.push(`a=setup:${setup}`);
    lines.push('a=rtcp-mux');
    if (t.rtcpRsize) lines.push('a=rtcp-rsize');
    for (const e of t.extensions) lines.push(`a=extmap:${e.id} ${e.uri}`);
    for (const c of t.codecs) lines.push(...codecLines(c, t.fmtp?.get(c.payloadType)));
    if (t.send) {
      const { ssrc, rtxSsrc, cname, streamId, trackId } = t.send;
      lines.push(`a=msid:${streamId} ${trackId}`);
      if (rtxSsrc !== undefined) lines.push(`a=ssrc-group:FID ${ssrc} ${rtxSsrc}`);
      for (const s of rtxSsrc !== undefined ? [ssrc, rtxSsrc] : [ssrc]) {
        lines.push(`a=ssrc:${s} cname:${cname}`);
        lines.push(`a=ssrc:${s} msid:${streamId} ${trackId}`);
      }
    }
    for (const c of local.iceCandidates) lines.push(candidateLine(c));
    lines.push('a=end-of-candidates');
  }
  return lines.join('\r\n') + '\r\n';
}

/** The WHIP answer: recvonly sections for the producers, every other section rejected. */
export function publisherAnswer(plan: PublisherPlan, local: LocalTransport, sessionId: string): string {
  const tracks: AnswerTrack[] = [];
  for (const p of [plan.video, plan.audio]) {
    if (!p) continue;
    const section = plan.offer.sections[p.index]!;
    // The primary codec's fmtp as the publisher wrote it (its order and spelling).
    const fmtp = new Map<number, string>();
    const primary = p.rtpParameters.codecs[0]!;
    const offered = section.codecs.find((c) => c.payloadType === primary.payloadType);
    if (offered) fmtp.set(primary.payloadType, offered.fmtp);
    tracks.push({
      index: p.index,
      mid: p.mid,
      kind: p.kind,
      direction: 'recvonly',
      codecs: p.rtpParameters.codecs,
      fmtp,
      extensions: p.rtpParameters.headerExtensions ?? [],
      rtcpRsize: p.rtpParameters.rtcp?.reducedSize ?? false,
    });
  }
  return buildAnswer(plan.offer, tracks, local, plan.remoteDtls, sessionId);
}

// ── Router codecs ───────────────────────────────────────────────────────

/**
 * The codecs of a channel's publishing router: every H.264 profile a publisher
 * may send (mediasoup matches H.264 by profile and packetization mode), VP8 and
 * Opus. Payload types are left to mediasoup: producers are mapped to them.
 */
export function publishingRouterCodecs(): RtpCodecCapability[] {
  const h264 = (profileLevelId: string): RtpCodecCapability => ({
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': profileLevelId,
      'level-asymmetry-allowed': 1,
    },
    rtcpFeedback: [],
  });
  return [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, rtcpFeedback: [] },
    h264('42e01f'),
    h264('42001f'),
    h264('4d001f'),
    h264('64001f'),
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: [] },
  ];
}

/** A codec of a source as mediasoup codec parameters, on a given payload type. */
export function sourceCodecParameters(codec: RtpCodec, payloadType: number): RtpCodecParameters {
  return {
    mimeType: mimeType(codec.kind, codec.name),
    payloadType,
    clockRate: codec.clockRate,
    ...(codec.kind === 'audio' ? { channels: codec.channels ?? 2 } : {}),
    parameters: fmtpToParameters(codec.fmtp),
    rtcpFeedback:
      codec.kind === 'video'
        ? [
            { type: 'nack', parameter: 'pli' },
            { type: 'ccm', parameter: 'fir' },
          ]
        : [],
  };
}

/** The tracks a feed carries: a source's codec on the payload type its consumers expect. */
export interface FeedTrack {
  kind: MediaKind;
  codec: RtpCodec;
  payloadType: number;
}

/**
 * The codecs of a feed's router: exactly the source's codecs on the given
 * payload types, so that its consumers send on those numbers (mediasoup's
 * consumers send on their router's payload types).
 */
export function routerCodecsFor(tracks: readonly FeedTrack[]): RtpCodecCapability[] {
  return tracks.map((t) => codecCapability(t.kind, t.codec, t.payloadType));
}

/**
 * A source's codec as a capability on a given payload type, with the given
 * RTCP feedback (the codec's own when none is given).
 */
export function codecCapability(
  kind: MediaKind,
  codec: RtpCodec,
  payloadType: number,
  rtcpFeedback?: RtcpFeedback[],
): RtpCodecCapability {
  const p = sourceCodecParameters(codec, payloadType);
  return {
    kind,
    mimeType: p.mimeType,
    preferredPayloadType: payloadType,
    clockRate: p.clockRate,
    ...(p.channels !== undefined ? { channels: p.channels } : {}),
    parameters: p.parameters ?? {},
    rtcpFeedback: rtcpFeedback ?? p.rtcpFeedback ?? [],
  };
}

/** A feed key: consumers that expect the same payload types for the same codecs share a feed. */
export function feedKey(tracks: readonly FeedTrack[]): string {
  return tracks
    .map((t) => `${t.kind}:${t.payloadType}:${t.codec.name}/${t.codec.clockRate}:${t.codec.fmtp}`)
    .join('|');
}

// ── WHEP: consumers, and the answer ─────────────────────────────────────

/** RTCP feedback a viewer may ask of a consumer (no bandwidth estimation: no simulcast to pick from). */
const CONSUMER_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir']);

export interface ViewerTrackPlan {
  kind: MediaKind;
  /** The section's index in the offer. */
  index: number;
  /** The source's codec. */
  codec: RtpCodec;
  /** The viewer's offered codec it receives the source's codec on. */
  offered: OfferedCodec;
}

/**
 * The RtpCapabilities a viewer's consumer of one track is made with: the
 * source's codec on the viewer's payload type, with the RTCP feedback the viewer
 * offered for it (NACK, PLI, FIR), and no header extensions.
 */
export function consumerCapabilities(offer: SdpOffer, t: ViewerTrackPlan): RtpCapabilities {
  const section = offer.sections[t.index];
  const offered = section?.codecs.find((c) => c.payloadType === t.offered.payloadType);
  const feedback = (offered?.rtcpFeedback ?? []).filter((fb) => CONSUMER_FEEDBACK.has(feedbackKey(fb)));
  return {
    codecs: [codecCapability(t.kind, t.codec, t.offered.payloadType, feedback)],
    headerExtensions: [],
  };
}

/** A made consumer, as the answer needs it. */
export interface AnsweredConsumer {
  track: ViewerTrackPlan;
  rtpParameters: RtpParameters;
}

/**
 * The WHEP answer: a sendonly section per consumer, on the viewer's payload
 * type with the viewer's own fmtp for it, the consumer's SSRC; every other
 * section rejected.
 */
export function viewerAnswer(
  sdp: string | SdpOffer,
  consumers: readonly AnsweredConsumer[],
  local: LocalTransport,
  sessionId: string,
): string {
  const offer = typeof sdp === 'string' ? parseSdp(sdp) : sdp;
  const streamId = `onair-${sessionId.slice(0, 8)}`;
  const tracks: AnswerTrack[] = consumers.map(({ track, rtpParameters }) => {
    const section = offer.sections[track.index];
    if (!section) throw new RangeError(`the offer has no section ${track.index}`);
    const codec = rtpParameters.codecs[0];
    const encoding = rtpParameters.encodings?.[0];
    if (!codec || encoding?.ssrc === undefined) throw new RangeError('the consumer has no codec or SSRC');
    return {
      index: track.index,
      mid: section.mid ?? String(track.index),
      kind: track.kind,
      direction: 'sendonly',
      // The codec on the viewer's payload type, written as the viewer offered it.
      codecs: [{ ...codec, payloadType: track.offered.payloadType }],
      fmtp: new Map([[track.offered.payloadType, track.offered.fmtp]]),
      extensions: [],
      rtcpRsize: section.rtcpRsize,
      send: {
        ssrc: encoding.ssrc,
        cname: rtpParameters.rtcp?.cname ?? 'onair',
        streamId,
        trackId: `${streamId}-${track.kind}`,
      },
    };
  });
  const first = offer.sections[consumers[0]?.track.index ?? 0];
  if (!first) throw new RangeError('the offer has no sections');
  return buildAnswer(offer, tracks, local, remoteDtlsParameters(offer, first), sessionId);
}

/** The remote DTLS parameters of any offer (WHEP viewers): for `transport.connect()`. */
export function offerDtlsParameters(offer: SdpOffer): DtlsParameters {
  const first = offer.sections.find((s) => inUse(s)) ?? offer.sections[0];
  if (!first) throw new MediaError('invalid_sdp', 'SDP offer has no media sections');
  return remoteDtlsParameters(offer, first);
}
