/**
 * HLS (RFC 8216, version 7) master and media playlists rendered from the
 * timeline. Playlists are served from /live/<channelId>/, so the timeline's
 * uris ('<runId>/<trackId>/…') are used as-is, relative.
 */
import type { RunTrack, TimelineView, TrackInfo } from './timeline.ts';

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

export interface HlsMediaOptions {
  /** The configured segment length in seconds: the target duration never goes below it. */
  targetDuration?: number;
  ended: boolean;
  /** `VOD` for assets (a playlist that never changes). */
  playlistType?: 'VOD' | 'EVENT';
}

export function renderHlsMediaPlaylist(view: TimelineView, trackId: string, opts: HlsMediaOptions): string {
  const parts: RunTrack[] = [];
  for (const run of view.runs) {
    const t = run.tracks.get(trackId);
    if (t && t.segments.length > 0) parts.push(t);
  }
  let maxDuration = 0;
  for (const p of parts) {
    for (const s of p.segments) maxDuration = Math.max(maxDuration, s.duration / p.info.timescale);
  }
  // RFC 8216 §4.3.3.1: each EXTINF *rounded to the nearest integer* must be <= the target
  // duration. Rounding (not ceil) keeps AAC segments of 2.005 s at a target of 2, as FFmpeg does.
  const targetDuration = Math.max(
    1,
    Math.ceil(opts.targetDuration ?? 0),
    Math.round(Number(maxDuration.toFixed(3))),
  );
  const first = parts[0]?.segments[0];
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.seq ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${parts[0]?.discontinuity ?? 0}`,
    ...(opts.playlistType ? [`#EXT-X-PLAYLIST-TYPE:${opts.playlistType}`] : []),
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  parts.forEach((p, i) => {
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    // Each run has its own init segment, so the map is repeated after every discontinuity.
    lines.push(`#EXT-X-MAP:URI=${quoted(p.initUri)}`);
    for (const s of p.segments) {
      lines.push(
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(Math.round(s.pdt)).toISOString()}`,
        `#EXTINF:${(s.duration / p.info.timescale).toFixed(3)},`,
        s.uri,
      );
    }
  });
  if (opts.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
