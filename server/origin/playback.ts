/**
 * Dynamic packaging for one playback source: a channel's live window, a
 * program's DVR window, or an asset (on demand). The same CMAF files, rendered
 * as HLS (multivariant + media playlists, LL-HLS with parts) and DASH (one MPD,
 * low-latency with chunked segments) from a view of the timeline.
 *
 * Caching: every rendering is made once per timeline change and shared by all
 * requests (with an ETag: If-None-Match → 304); segments, parts and init
 * segments are immutable and served from an in-memory LRU; live playlists may
 * be cached about half a segment, blocking reloads (keyed by their query) longer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import { renderDashMpd } from '../packager/dash.ts';
import {
  playlistEnd,
  renderHlsMaster,
  renderHlsMediaPlaylist,
  type RenditionReport,
} from '../packager/hls.ts';
import { BLOCK_TARGET_DURATIONS, blockingSatisfied, parseHlsQuery } from './hls-query.ts';
import { CORS, IMMUTABLE, NO_CACHE, sendRendered } from './responses.ts';
import { serveMedia } from './segments.ts';
import { sendFile } from './send-file.ts';
import { waitUntil, type PlaybackContext, type PlaybackSource } from './source.ts';

// Imported from here by the origin, the playback sources and the tests.
export { blockingSatisfied, parseHlsQuery, type HlsQuery } from './hls-query.ts';
export { CORS, IMMUTABLE, NO_CACHE } from './responses.ts';
export { viewTracks, type PlaybackContext, type PlaybackKind, type PlaybackSource } from './source.ts';

const TRACK_PLAYLIST = /^([a-z0-9]+)\.m3u8$/;

/** Cache-Control of a live playlist or MPD: about half a segment (whole seconds), or no-cache on demand. */
function playlistCaching(source: PlaybackSource, blocking: boolean): Record<string, string> {
  if (source.kind === 'vod') return NO_CACHE;
  if (source.ended) return { 'Cache-Control': 'public, max-age=1', ...CORS };
  // A blocking reload's answer stays right for everyone asking the same query.
  if (blocking) return { 'Cache-Control': `public, max-age=${String(source.segmentSeconds * 3)}`, ...CORS };
  return {
    'Cache-Control': `public, max-age=${String(Math.max(1, Math.floor(source.segmentSeconds / 2)))}`,
    ...CORS,
  };
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
  const ll = live && source.lowLatency && !source.ended;
  if (rest === 'master.m3u8') {
    const tracks = source.tracks();
    // A master listing only the renditions that happened to be ready would stay that way in players.
    if (!tracks.some((t) => t.kind === 'video') || (live && tracks.length < source.expectedTracks)) {
      throw new OnairError('not_found', 'the stream has not started yet');
    }
    // Published once every track has a complete segment (its measured frame rate and bandwidth
    // are in the master): players then find a segment, not only parts, in every rendition.
    if (live && source.expectedTracks > 0) {
      const ready = source
        .view()
        .runs.some(
          (run) =>
            [...run.tracks.values()].filter((t) => t.segments.length > 0).length >= source.expectedTracks,
        );
      if (!ready) throw new OnairError('not_found', 'the stream has not started yet');
    }
    const r = ctx.renderings.get(`${source.cacheKey}|master`, source.version, () => renderHlsMaster(tracks));
    sendRendered(req, res, r, 'application/vnd.apple.mpegurl', playlistCaching(source, false));
    return;
  }
  if (rest === 'manifest.mpd') {
    const seg = source.segmentSeconds;
    const utcTimingUrl = ctx.utcTimingUrl();
    const r = ctx.renderings.get(`${source.cacheKey}|mpd|${utcTimingUrl}`, source.version, () => {
      let view = source.view();
      // A Period is published only once every track of it has a segment: dash.js
      // does not pick up an AdaptationSet that appears in a later refresh.
      const current = view.runs.at(-1);
      if (live && current && current.id === source.currentRunId) {
        const ready = [...current.tracks.values()].filter((t) => t.segments.length > 0).length;
        if (ready < source.expectedTracks) view = { ...view, runs: view.runs.slice(0, -1) };
      }
      if (view.runs.length === 0) return '';
      const part = source.partSeconds;
      return renderDashMpd(view, {
        availabilityStartTime: source.availabilityStartTime,
        publishTime: Date.now(),
        // Low latency: the segment being written is listed, so refresh about every part.
        minimumUpdatePeriodSeconds: ll ? part : seg,
        timeShiftBufferDepthSeconds: source.timeShiftBufferDepthSeconds,
        suggestedPresentationDelaySeconds: ll ? seg + part : seg * 3,
        minBufferTimeSeconds: ll ? part * 2 : seg,
        utcTimingUrl,
        ended: source.ended,
        vod: source.kind === 'vod',
        ...(ll
          ? {
              lowLatency: {
                segmentSeconds: seg,
                partSeconds: part,
                targetLatencySeconds: seg + part,
                seekable: source.kind === 'dvr',
              },
            }
          : {}),
      });
    });
    if (r.body.length === 0) throw new OnairError('not_found', 'the stream has not started yet');
    sendRendered(req, res, r, 'application/dash+xml', playlistCaching(source, false));
    return;
  }
  const pl = TRACK_PLAYLIST.exec(rest);
  if (pl) {
    const trackId = pl[1]!;
    const q = parseHlsQuery(ctx.query);
    const blocking = ll && q.msn !== undefined;
    if (blocking) {
      const msn = q.msn!;
      const end = playlistEnd(source.view(), trackId);
      // RFC 8216bis §6.2.5.2: more than two segments ahead of the playlist is a bad request.
      if (end && msn > end.msn + 2) {
        throw new OnairError('bad_request', `_HLS_msn ${String(msn)} is too far ahead of ${String(end.msn)}`);
      }
      const ok = await waitUntil(
        source,
        () => blockingSatisfied(playlistEnd(source.view(), trackId), msn, q.part),
        source.segmentSeconds * BLOCK_TARGET_DURATIONS * 1000,
      );
      if (!ok) throw new OnairError('unavailable', 'the requested segment or part did not arrive in time');
    }
    const skip = ll && q.skip;
    const r = ctx.renderings.get(
      `${source.cacheKey}|${trackId}|${skip ? 'skip' : 'full'}`,
      source.version,
      () => {
        const view = source.view();
        // A rendition's playlist appears with its first part (LL) or complete segment. Players that
        // start from the master (gated on complete segments above) never see it without a segment.
        const has = view.runs.some((run) => {
          const t = run.tracks.get(trackId);
          return (t?.segments.length ?? 0) > 0 || (ll && (t?.pending?.parts.length ?? 0) > 0);
        });
        if (!has) return '';
        const reports: RenditionReport[] = [];
        if (ll) {
          for (const t of source.tracks()) {
            if (t.id === trackId) continue;
            const end = playlistEnd(view, t.id);
            if (end) reports.push({ uri: `${t.id}.m3u8`, ...end });
          }
        }
        return renderHlsMediaPlaylist(view, trackId, {
          targetDuration: source.segmentSeconds,
          ended: source.ended,
          ...(source.kind === 'vod' ? { playlistType: 'VOD' as const } : {}),
          ...(ll
            ? { lowLatency: { partTargetSeconds: source.partSeconds, skip, renditionReports: reports } }
            : {}),
        });
      },
    );
    if (r.body.length === 0) throw new OnairError('not_found', 'no such rendition, or no segments yet');
    sendRendered(req, res, r, 'application/vnd.apple.mpegurl', playlistCaching(source, blocking));
    return;
  }
  await serveMedia(req, res, source, rest, ctx, ll);
}
