/**
 * Dynamic packaging for one playback source: a channel's live window, a
 * program's DVR window, or an asset (on demand). The same CMAF files, rendered
 * as HLS (multivariant + media playlists) and DASH (one MPD) from a view of the
 * timeline. Playlists are no-cache; segments are immutable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import { sendText } from '../http/http.ts';
import { renderDashMpd } from '../packager/dash.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from '../packager/hls.ts';
import type { TimelineView, TrackInfo } from '../packager/timeline.ts';
import { sendFile } from './send-file.ts';

export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Date',
};
export const NO_CACHE = { 'Cache-Control': 'no-cache', ...CORS };
export const IMMUTABLE = { 'Cache-Control': 'public, max-age=31536000, immutable', ...CORS };

const SEGMENT_PATH = /^(r[a-z0-9]+)\/([a-z0-9]+)\/(init\.mp4|seg_\d{5,9}\.m4s)$/;
const TRACK_PLAYLIST = /^([a-z0-9]+)\.m3u8$/;

export type PlaybackKind = 'live' | 'dvr' | 'vod';

/** What the origin renders and serves for one URL prefix. */
export interface PlaybackSource {
  readonly kind: PlaybackKind;
  /** The folder the view's uris are relative to. */
  readonly dir: string;
  /** Segment length the channel was configured with (target duration floor). */
  readonly segmentSeconds: number;
  /** The segments to list now. */
  view(): TimelineView;
  /** Tracks of the newest run, for the multivariant playlist. */
  tracks(): TrackInfo[];
  /** Tracks the current encoder run writes (live and DVR; 0 when none): players wait for all of them. */
  readonly expectedTracks: number;
  /** Id of the run being written, if any. */
  readonly currentRunId: string | undefined;
  /** Live: the output has ended (players may stop polling). VOD: always. */
  readonly ended: boolean;
  /** DASH availabilityStartTime (epoch ms); VOD: the start of the recording. */
  readonly availabilityStartTime: number;
  /** DASH timeShiftBufferDepth: how far back players may seek. */
  readonly timeShiftBufferDepthSeconds: number;
  /** A picture: the live thumbnail or the asset's poster. */
  picture(): string | undefined;
  /** VOD: the recording as one MP4 (made on first request). */
  download?(): Promise<{ path: string; filename: string }>;
}

export interface PlaybackContext {
  /** Absolute URL of the DASH clock (`/time`). */
  utcTimingUrl: string;
}

export async function servePlayback(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  rest: string,
  ctx: PlaybackContext,
): Promise<void> {
  if (rest === 'thumbnail.jpg' || rest === 'poster.jpg') {
    const file = source.picture();
    if (!file) throw new OnairError('not_found', 'no picture yet');
    await sendFile(req, res, file, 'image/jpeg', source.kind === 'vod' ? IMMUTABLE : NO_CACHE);
    return;
  }
  if (rest === 'download.mp4') {
    if (!source.download) throw new OnairError('not_found', 'only recordings can be downloaded');
    const { path: file, filename } = await source.download();
    await sendFile(req, res, file, 'video/mp4', {
      ...IMMUTABLE,
      'Content-Disposition': `attachment; filename="${filename.replace(/[^\w. -]/g, '_')}"`,
    });
    return;
  }
  const live = source.kind !== 'vod';
  if (rest === 'master.m3u8') {
    const tracks = source.tracks();
    // A master listing only the renditions that happened to be ready would stay that way in players.
    if (!tracks.some((t) => t.kind === 'video') || (live && tracks.length < source.expectedTracks)) {
      throw new OnairError('not_found', 'the stream has not started yet');
    }
    sendText(res, 200, renderHlsMaster(tracks), 'application/vnd.apple.mpegurl', NO_CACHE);
    return;
  }
  if (rest === 'manifest.mpd') {
    const view = source.view();
    // A Period is published only once every track of it has a segment: dash.js
    // does not pick up an AdaptationSet that appears in a later refresh.
    const current = view.runs.at(-1);
    if (
      live &&
      current &&
      current.id === source.currentRunId &&
      current.tracks.size < source.expectedTracks
    ) {
      view.runs.pop();
    }
    if (view.runs.length === 0) throw new OnairError('not_found', 'the stream has not started yet');
    const seg = source.segmentSeconds;
    const mpd = renderDashMpd(view, {
      availabilityStartTime: source.availabilityStartTime,
      publishTime: Date.now(),
      minimumUpdatePeriodSeconds: seg,
      timeShiftBufferDepthSeconds: source.timeShiftBufferDepthSeconds,
      suggestedPresentationDelaySeconds: seg * 3,
      minBufferTimeSeconds: seg,
      utcTimingUrl: ctx.utcTimingUrl,
      ended: source.ended,
      vod: source.kind === 'vod',
    });
    sendText(res, 200, mpd, 'application/dash+xml', NO_CACHE);
    return;
  }
  const pl = TRACK_PLAYLIST.exec(rest);
  if (pl) {
    const trackId = pl[1]!;
    const view = source.view();
    const has = view.runs.some((r) => (r.tracks.get(trackId)?.segments.length ?? 0) > 0);
    if (!has) throw new OnairError('not_found', 'no such rendition, or no segments yet');
    const body = renderHlsMediaPlaylist(view, trackId, {
      targetDuration: source.segmentSeconds,
      ended: source.ended,
      ...(source.kind === 'vod' ? { playlistType: 'VOD' as const } : {}),
    });
    sendText(res, 200, body, 'application/vnd.apple.mpegurl', NO_CACHE);
    return;
  }
  const sm = SEGMENT_PATH.exec(rest);
  if (!sm) throw new OnairError('not_found', 'not found');
  // The pattern admits no "..", so the file is always inside the source's folder.
  const file = path.join(source.dir, sm[1]!, sm[2]!, sm[3]!);
  await sendFile(req, res, file, sm[2] === 'audio' ? 'audio/mp4' : 'video/mp4', IMMUTABLE);
}

/** The tracks of the newest run of a view (the multivariant playlist of a DVR window or an asset). */
export function viewTracks(view: TimelineView): TrackInfo[] {
  const run = view.runs.at(-1);
  return run ? [...run.tracks.values()].map((t) => ({ ...t.info })) : [];
}
