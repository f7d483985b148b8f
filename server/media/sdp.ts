/**
 * Pure SDP helpers: the one parser (WHIP and WHEP offers, and the mediasoup
 * translation), inspecting an offer before any WebRTC work is done, and
 * munging the answer. No WebRTC library here, so these are golden-testable.
 * Errors are MediaErrors (invalid_sdp, unsupported_offer); the HTTP edge maps them.
 */
import { MediaError } from './errors.ts';
import { inUse, parseSdp, sdpLines } from './sdp-parser.ts';

export interface OfferedCodec {
  payloadType: number;
  name: string; // upper-case encoding name: H264, VP8, OPUS, …
  clockRate: number;
  fmtp: string;
}

export interface OfferedMedia {
  kind: string;
  mid: string | undefined;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  codecs: OfferedCodec[];
  /** Whether the section carries media (sdp-parser.ts inUse: a port, or bundle-only). */
  inUse: boolean;
}

export interface OfferSummary {
  video: OfferedMedia;
  audio: OfferedMedia | undefined;
  videoCodec: 'H264' | 'VP8';
}

/**
 * What WHIP and WHEP require of an offer before reading it: "v=0" first, an
 * "o=" line, every line `x=…`, and m-lines whose formats are plain tokens.
 * Throws invalid_sdp naming the first problem.
 */
function checkSdpSyntax(lines: readonly string[]): void {
  if (!lines[0]?.startsWith('v=0')) throw new MediaError('invalid_sdp', 'SDP offer must start with "v=0"');
  if (!lines.some((l) => l.startsWith('o=')))
    throw new MediaError('invalid_sdp', 'SDP offer has no "o=" line');
  for (const line of lines) {
    if (line.length < 2 || line[1] !== '=')
      throw new MediaError('invalid_sdp', `malformed SDP line: ${JSON.stringify(line.slice(0, 60))}`);
    if (line.startsWith('m=') && !/^m=(\w+) (\d+)(?:\/\d+)? ([\w/]+)((?: \w+)*)$/.test(line))
      throw new MediaError('invalid_sdp', `malformed m-line: ${JSON.stringify(line.slice(0, 80))}`);
  }
}

/** The media sections of a WHIP or WHEP offer (checked strictly), codec names in upper case. */
export function parseMediaSections(sdp: string): OfferedMedia[] {
  checkSdpSyntax(sdpLines(sdp));
  return parseSdp(sdp).sections.map((s) => ({
    kind: s.kind,
    mid: s.mid,
    direction: s.direction,
    codecs: s.codecs.map((c) => ({
      payloadType: c.payloadType,
      name: c.name.toUpperCase(),
      clockRate: c.clockRate,
      fmtp: c.fmtp,
    })),
    inUse: inUse(s),
  }));
}

function fmtpParams(fmtp: string): Map<string, string> {
  return new Map(
    fmtp
      .split(';')
      .map((kv) => kv.trim().split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k!.toLowerCase(), v!]),
  );
}

export function isAcceptableH264(c: OfferedCodec): boolean {
  return c.name === 'H264' && c.clockRate === 90000 && fmtpParams(c.fmtp).get('packetization-mode') === '1';
}

/**
 * Checks a WHIP offer: exactly one video section (H.264 packetization-mode 1 or
 * VP8) and at most one audio section (Opus). Throws invalid_sdp for malformed SDP
 * and unsupported_offer naming the reason.
 */
export function inspectOffer(sdp: string, opts: { requireH264: boolean }): OfferSummary {
  const sections = parseMediaSections(sdp);
  if (sections.length === 0) throw new MediaError('invalid_sdp', 'SDP offer has no media sections');
  const videos = sections.filter((s) => s.kind === 'video' && s.inUse);
  const audios = sections.filter((s) => s.kind === 'audio' && s.inUse);
  if (videos.length === 0)
    throw new MediaError('unsupported_offer', 'the offer has no video track; onair needs one video track');
  if (videos.length > 1)
    throw new MediaError(
      'unsupported_offer',
      `the offer has ${videos.length} video tracks; send exactly one`,
    );
  if (audios.length > 1)
    throw new MediaError(
      'unsupported_offer',
      `the offer has ${audios.length} audio tracks; send at most one`,
    );
  const video = videos[0]!;
  const audio = audios[0];
  if (video.direction === 'recvonly' || video.direction === 'inactive') {
    throw new MediaError(
      'unsupported_offer',
      'the video track must be sendonly (a WHIP publisher sends media)',
    );
  }
  const h264 = video.codecs.some(isAcceptableH264);
  const vp8 = video.codecs.some((c) => c.name === 'VP8' && c.clockRate === 90000);
  if (!h264 && (opts.requireH264 || !vp8)) {
    throw new MediaError(
      'unsupported_offer',
      opts.requireH264
        ? 'no acceptable video codec: a passthrough channel needs H.264 (packetization-mode=1)'
        : 'no acceptable video codec: offer H.264 (packetization-mode=1) or VP8',
    );
  }
  if (audio && !audio.codecs.some((c) => c.name === 'OPUS' && c.clockRate === 48000)) {
    throw new MediaError('unsupported_offer', 'no acceptable audio codec: offer Opus');
  }
  return { video, audio, videoCodec: h264 ? 'H264' : 'VP8' };
}

/**
 * Adds Chrome's x-google bitrate hints to every video fmtp line of an answer:
 * with no REMB from the server, Chrome otherwise idles at a few hundred kbit/s.
 */
export function addBitrateHints(answer: string, kbps: { min: number; start: number; max: number }): string {
  const hint = `x-google-min-bitrate=${kbps.min};x-google-start-bitrate=${kbps.start};x-google-max-bitrate=${kbps.max}`;
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  const lines = answer.split(/\r?\n/);
  // Primary video codecs (not RTX/RED/FEC) of the answer, and which of them already have an fmtp line.
  const primary = new Set<string>();
  const withFmtp = new Set<string>();
  let inVideo = false;
  for (const line of lines) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    if (!inVideo) continue;
    const rm = /^a=rtpmap:(\d+) ([\w.-]+)\//.exec(line);
    if (rm && !['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03'].includes(rm[2]!.toUpperCase())) primary.add(rm[1]!);
    const fm = /^a=fmtp:(\d+) /.exec(line);
    if (fm) withFmtp.add(fm[1]!);
  }
  const out: string[] = [];
  inVideo = false;
  for (const line of lines) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    const fm = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (inVideo && fm && primary.has(fm[1]!) && !line.includes('x-google-')) {
      out.push(`${line};${hint}`);
      continue;
    }
    out.push(line);
    const rm = /^a=rtpmap:(\d+) /.exec(line);
    // VP8 answers usually carry no fmtp line at all: add one for the hints.
    if (inVideo && rm && primary.has(rm[1]!) && !withFmtp.has(rm[1]!)) out.push(`a=fmtp:${rm[1]} ${hint}`);
  }
  return out.join(eol);
}

/** Keeps only candidates whose address passes `keep` (tests keep ICE on loopback). */
export function filterCandidates(sdp: string, keep: (address: string) => boolean): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      const m = /^a=candidate:\S+ \d+ \w+ \d+ (\S+) \d+/.exec(line);
      return !m || keep(m[1]!);
    })
    .join(eol);
}

/**
 * What WebRTC needs in an offer beyond its media: ICE credentials and a DTLS
 * fingerprint (at session level or in every media section). Throws
 * unsupported_offer naming what is missing.
 */
export function checkTransport(sdp: string): void {
  const missing: string[] = [];
  if (!/^a=ice-ufrag:\S+/m.test(sdp)) missing.push('a=ice-ufrag');
  if (!/^a=ice-pwd:\S+/m.test(sdp)) missing.push('a=ice-pwd');
  if (!/^a=fingerprint:\S+ \S+/m.test(sdp)) missing.push('a=fingerprint');
  if (missing.length > 0) {
    throw new MediaError(
      'unsupported_offer',
      `the offer has no ${missing.join(', ')}: a WebRTC offer needs ICE credentials and a DTLS fingerprint`,
    );
  }
}

/** The ICE ufrag and password of an SDP (session or first media level). */
export function iceCredentials(sdp: string): { ufrag: string | undefined; pwd: string | undefined } {
  return {
    ufrag: /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1],
    pwd: /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1],
  };
}

// ── WHEP: a viewer's offer ──────────────────────────────────────────────

/** The sections of a WHEP offer onair can send to: at most one video and one audio. */
export interface ViewerOfferSummary {
  /** Index (in the offer) and section of the receivable video, if any. */
  video: { index: number; media: OfferedMedia } | undefined;
  audio: { index: number; media: OfferedMedia } | undefined;
}

function forwardable(m: OfferedMedia): boolean {
  if (m.kind === 'video') return m.codecs.some((c) => isAcceptableH264(c) || c.name === 'VP8');
  return m.codecs.some((c) => c.name === 'OPUS' && c.clockRate === 48000);
}

/**
 * Checks a WHEP offer before any WebRTC work: malformed SDP is invalid_sdp; an
 * offer with nothing onair could send to — no recvonly or sendrecv video (H.264
 * packetization-mode 1 or VP8) or audio (Opus) section — is unsupported_offer.
 * A sendrecv section is served as recvonly.
 */
export function inspectViewerOffer(sdp: string): ViewerOfferSummary {
  const sections = parseMediaSections(sdp);
  if (sections.length === 0) throw new MediaError('invalid_sdp', 'SDP offer has no media sections');
  const receivable = sections
    .map((media, index) => ({ media, index }))
    .filter(
      ({ media }) =>
        (media.kind === 'video' || media.kind === 'audio') &&
        media.inUse &&
        (media.direction === 'recvonly' || media.direction === 'sendrecv'),
    );
  for (const kind of ['video', 'audio'] as const) {
    const n = receivable.filter((r) => r.media.kind === kind).length;
    if (n > 1)
      throw new MediaError(
        'unsupported_offer',
        `the offer asks to receive ${n} ${kind} tracks; a channel has at most one`,
      );
  }
  const video = receivable.find((r) => r.media.kind === 'video' && forwardable(r.media));
  const audio = receivable.find((r) => r.media.kind === 'audio' && forwardable(r.media));
  if (!video && !audio) {
    throw new MediaError(
      'unsupported_offer',
      receivable.length === 0
        ? 'the offer has nothing to receive: offer a recvonly video or audio section'
        : 'the offer has no codec onair sends: offer H.264 (packetization-mode=1) or VP8 video, or Opus audio',
    );
  }
  return { video, audio };
}

/** What a codec sent by a source needs to match in an offer (see matchOfferedCodec). */
export interface SentCodec {
  name: string;
  clockRate: number;
  fmtp: string;
}

/**
 * The offered payload type a viewer should receive a source's codec on, or
 * undefined. H.264 needs the same packetization mode; among those, the offered
 * profile-level-id closest to the sent one wins (exact, then same profile and
 * constraints, then same profile), else the first: decoders read the profile
 * from the SPS in the stream.
 */
export function matchOfferedCodec(
  offered: readonly OfferedCodec[],
  sent: SentCodec,
): OfferedCodec | undefined {
  const same = offered.filter((c) => c.name === sent.name && c.clockRate === sent.clockRate);
  if (sent.name !== 'H264') return same[0];
  const want = fmtpParams(sent.fmtp);
  const mode = want.get('packetization-mode') ?? '0';
  const profile = (want.get('profile-level-id') ?? '').toLowerCase();
  let best: OfferedCodec | undefined;
  let bestScore = -1;
  for (const c of same) {
    const p = fmtpParams(c.fmtp);
    if ((p.get('packetization-mode') ?? '0') !== mode) continue;
    const offeredProfile = (p.get('profile-level-id') ?? '').toLowerCase();
    let score = 0;
    if (profile.length === 6 && offeredProfile.length === 6) {
      if (offeredProfile === profile) score = 3;
      else if (offeredProfile.slice(0, 4) === profile.slice(0, 4)) score = 2;
      else if (offeredProfile.slice(0, 2) === profile.slice(0, 2)) score = 1;
    }
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The offer with only the given payload types left in the given sections (by
 * index): their m-line format lists and rtpmap/fmtp/rtcp-fb lines. The WebRTC
 * stack then cannot pick another codec for the answer than the one chosen.
 */
export function restrictOfferCodecs(sdp: string, keep: ReadonlyMap<number, readonly number[]>): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  let index = -1;
  let kept: Set<number> | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      index++;
      const pts = keep.get(index);
      kept = pts ? new Set(pts) : undefined;
      if (kept) {
        const m = /^(m=\w+ \d+(?:\/\d+)? [\w/]+)/.exec(line);
        out.push(`${m?.[1] ?? line.split(' ').slice(0, 3).join(' ')} ${[...kept].join(' ')}`);
        continue;
      }
    } else if (kept) {
      const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]/.exec(line);
      if (m && !kept.has(Number(m[1]))) continue;
    }
    out.push(line);
  }
  return out.join(eol);
}

/**
 * The offer with each bundle-only section (port 0 and `a=bundle-only`, as JSEP's max-bundle policy
 * writes every section after the first: GStreamer's webrtcbin does) given port 9 and no
 * `a=bundle-only`: the same offer for an engine that reads port 0 as "rejected" (werift).
 */
export function withBundleOnlyPorts(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  let mLine = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith('m=')) mLine = i;
    else if (lines[i]!.trim() === 'a=bundle-only' && mLine >= 0) {
      lines[mLine] = lines[mLine]!.replace(/^(m=\w+ )0(?=[ /])/, '$19');
      lines.splice(i--, 1);
    }
  }
  return lines.join(eol);
}
