/**
 * HLS (RFC 8216, version 7; with low latency, version 9: LL-HLS parts, blocking
 * reload, delta updates) master and media playlists rendered from the timeline.
 * Playlists are served from /live/<channelId>/, so the timeline's uris
 * ('<runId>/<trackId>/…') are used as-is, relative.
 */
import type { PendingSegment, RunTrack, Segment, TimelineView, TrackInfo } from './timeline.ts';

const AUDIO_GROUP = 'aud';

function quoted(value: string): string {
  // Quoted-strings cannot contain '"', CR or LF (RFC 8216 §4.2); ids and codecs never should.
  return `"${value.replace(/["\r\n]/g, '')}"`;
}

export function renderHlsMaster(tracks: readonly TrackInfo[]): string {
  const audio = tracks.find((t) => t.kind === 'audio');
  const video = tracks.filter((t) => t.kind === 'video').sort((a, b) => b.bandwidth - a.bandwidth);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio && video.length > 0) {
    const attrs = [
      `TYPE=AUDIO`,
      `GROUP-ID=${quoted(AUDIO_GROUP)}`,
      `NAME="audio"`,
      'DEFAULT=YES',
      'AUTOSELECT=YES',
    ];
    if (audio.channels !== undefined) attrs.push(`CHANNELS=${quoted(String(audio.channels))}`);
    attrs.push(`URI=${quoted(`${audio.id}.m3u8`)}`);
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  }
  const audioBandwidth = audio?.bandwidth ?? 0;
  for (const v of video) {
    const bandwidth = Math.round(v.bandwidth + audioBandwidth);
    const codecs = audio ? `${v.codec},${audio.codec}` : v.codec;
    // Declared bitrates are averages; without a measured peak, BANDWIDTH carries the same value.
    const attrs = [`BANDWIDTH=${bandwidth}`, `AVERAGE-BANDWIDTH=${bandwidth}`, `CODECS=${quoted(codecs)}`];
    if (v.width !== undefined && v.height !== undefined) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.frameRate !== undefined && v.frameRate > 0) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    if (audio) attrs.push(`AUDIO=${quoted(AUDIO_GROUP)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `${v.id}.m3u8`);
  }
  if (video.length === 0 && audio) {
    // Audio-only channel: the audio playlist is the only variant.
    const bandwidth = Math.round(audio.bandwidth);
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${bandwidth},CODECS=${quoted(audio.codec)}`,
      `${audio.id}.m3u8`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Where a rendition's playlist ends: its last media sequence number and part (EXT-X-RENDITION-REPORT). */
export interface PlaylistEnd {
  /** The media sequence number of the last segment, complete or being written. */
  msn: number;
  /** The index of its last part, when its parts are known. */
  part: number | undefined;
  /** The segment with `msn` is complete (not being written). */
  complete: boolean;
}

export interface RenditionReport extends PlaylistEnd {
  /** The rendition's playlist, relative (e.g. 'audio.m3u8'). */
  uri: string;
}

export interface LowLatencyOptions {
  /** PART-TARGET: the part length FFmpeg writes, seconds (raised to the longest part listed). */
  partTargetSeconds: number;
  /** A delta update was asked for (_HLS_skip=YES): older segments are replaced by EXT-X-SKIP. */
  skip?: boolean;
  /** The other renditions' ends. */
  renditionReports?: readonly RenditionReport[];
}

/** The uri of part `index` of a segment: a virtual file, its byte range of the segment (served by the origin). */
export function partUri(segmentUri: string, index: number): string {
  return segmentUri.replace(/\.m4s$/, `.p${String(index)}.m4s`);
}

/** The uri of the segment numbered `number` beside `uri` (FFmpeg's seg_%05d naming). */
function siblingUri(uri: string, number: number): string {
  return uri.replace(/seg_\d+\.m4s$/, `seg_${String(number).padStart(5, '0')}.m4s`);
}

function tracksOf(view: TimelineView, trackId: string): RunTrack[] {
  const out: RunTrack[] = [];
  for (const run of view.runs) {
    const t = run.tracks.get(trackId);
    if (t && (t.segments.length > 0 || t.pending)) out.push(t);
  }
  return out;
}

/** The end of a rendition's playlist in this view (undefined: nothing listed yet). */
export function playlistEnd(view: TimelineView, trackId: string): PlaylistEnd | undefined {
  const last = tracksOf(view, trackId).at(-1);
  if (!last) return undefined;
  if (last.pending) {
    return { msn: last.pending.seq, part: last.pending.parts.length - 1, complete: false };
  }
  const seg = last.segments.at(-1);
  if (!seg) return undefined;
  return { msn: seg.seq, part: seg.parts ? seg.parts.length - 1 : undefined, complete: true };
}

const ceil3 = (n: number): number => Math.ceil(Math.round(n * 1e6) / 1e3) / 1000;

export interface HlsMediaOptions {
  /** The configured segment length in seconds: the target duration never goes below it. */
  targetDuration?: number;
  ended: boolean;
  /** `VOD` for assets (a playlist that never changes). */
  playlistType?: 'VOD' | 'EVENT';
  /** LL-HLS: parts, preload hint, blocking reload and delta updates (not on ended playlists). */
  lowLatency?: LowLatencyOptions;
}

export function renderHlsMediaPlaylist(view: TimelineView, trackId: string, opts: HlsMediaOptions): string {
  const parts = tracksOf(view, trackId);
  const ll = opts.ended ? undefined : opts.lowLatency;
  let maxDuration = 0;
  let maxPart = 0;
  for (const p of parts) {
    for (const s of p.segments) {
      maxDuration = Math.max(maxDuration, s.duration / p.info.timescale);
      for (const part of s.parts ?? []) maxPart = Math.max(maxPart, part.duration / p.info.timescale);
    }
    for (const part of p.pending?.parts ?? []) maxPart = Math.max(maxPart, part.duration / p.info.timescale);
  }
  // RFC 8216 §4.3.3.1: each EXTINF *rounded to the nearest integer* must be <= the target
  // duration. Rounding (not ceil) keeps AAC segments of 2.005 s at a target of 2, as FFmpeg does.
  const targetDuration = Math.max(
    1,
    Math.ceil(opts.targetDuration ?? 0),
    Math.round(Number(maxDuration.toFixed(3))),
  );
  const first = parts[0]?.segments[0] ?? parts[0]?.pending;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${ll ? 9 : 7}`, `#EXT-X-TARGETDURATION:${targetDuration}`];
  const canSkipUntil = targetDuration * 6;
  if (ll) {
    const partTarget = Math.max(ll.partTargetSeconds, ceil3(maxPart));
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${canSkipUntil.toFixed(1)},PART-HOLD-BACK=${(partTarget * 3).toFixed(3)}`,
      `#EXT-X-PART-INF:PART-TARGET=${partTarget.toFixed(3)}`,
    );
  }
  lines.push(
    `#EXT-X-MEDIA-SEQUENCE:${first?.seq ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${parts[0]?.discontinuity ?? 0}`,
    ...(opts.playlistType ? [`#EXT-X-PLAYLIST-TYPE:${opts.playlistType}`] : []),
    '#EXT-X-INDEPENDENT-SEGMENTS',
  );
  // Delta update: segments older than CAN-SKIP-UNTIL before the end, within the first run only (its
  // map and discontinuity stay as they are), and never all of them.
  let skip = 0;
  if (ll?.skip && parts[0]) {
    const end = playlistEndPdt(parts);
    const firstRun = parts[0];
    const ms = 1000 / firstRun.info.timescale;
    while (
      skip < firstRun.segments.length - 1 &&
      firstRun.segments[skip]!.pdt + firstRun.segments[skip]!.duration * ms <= end - canSkipUntil * 1000
    ) {
      skip++;
    }
    if (skip > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skip}`);
  }
  // Parts are listed for the last segments (about three target durations) and the one being written.
  const partsFrom = ll ? playlistEndPdt(parts) - targetDuration * 3 * 1000 : Infinity;
  parts.forEach((p, i) => {
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    // Each run has its own init segment, so the map is repeated after every discontinuity.
    lines.push(`#EXT-X-MAP:URI=${quoted(p.initUri)}`);
    const ts = p.info.timescale;
    const segments = i === 0 ? p.segments.slice(skip) : p.segments;
    for (const s of segments) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(Math.round(s.pdt)).toISOString()}`);
      if (ll && s.parts && s.pdt + (s.duration / ts) * 1000 > partsFrom) pushParts(lines, s, ts);
      lines.push(`#EXTINF:${(s.duration / ts).toFixed(3)},`, s.uri);
    }
    if (ll && p.pending && i === parts.length - 1) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(Math.round(p.pending.pdt)).toISOString()}`);
      pushParts(lines, p.pending, ts);
    }
  });
  if (ll) {
    const last = parts.at(-1);
    // The next part: of the segment being written, or the first of the next one.
    const hint = last?.pending
      ? partUri(last.pending.uri, last.pending.parts.length)
      : last?.segments.at(-1) &&
        partUri(siblingUri(last.segments.at(-1)!.uri, last.segments.at(-1)!.number + 1), 0);
    if (hint) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(hint)}`);
    for (const r of ll.renditionReports ?? []) {
      const attrs = [`URI=${quoted(r.uri)}`, `LAST-MSN=${r.msn}`];
      if (r.part !== undefined && r.part >= 0) attrs.push(`LAST-PART=${r.part}`);
      lines.push(`#EXT-X-RENDITION-REPORT:${attrs.join(',')}`);
    }
  }
  if (opts.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

function pushParts(lines: string[], s: Segment | PendingSegment, timescale: number): void {
  (s.parts ?? []).forEach((part, k) => {
    const attrs = [`DURATION=${(part.duration / timescale).toFixed(3)}`, `URI=${quoted(partUri(s.uri, k))}`];
    if (part.independent) attrs.push('INDEPENDENT=YES');
    lines.push(`#EXT-X-PART:${attrs.join(',')}`);
  });
}

/** Epoch ms where the listed media ends (the segment being written included). */
function playlistEndPdt(tracks: readonly RunTrack[]): number {
  const last = tracks.at(-1);
  if (!last) return 0;
  const ms = 1000 / last.info.timescale;
  if (last.pending) return last.pending.pdt + last.pending.parts.reduce((n, p) => n + p.duration, 0) * ms;
  const s = last.segments.at(-1);
  return s ? s.pdt + s.duration * ms : 0;
}
