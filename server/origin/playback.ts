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
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import { renderDashMpd } from '../packager/dash.ts';
import { splitParts } from '../packager/mp4.ts';
import {
  playlistEnd,
  renderHlsMaster,
  renderHlsMediaPlaylist,
  type PlaylistEnd,
  type RenditionReport,
} from '../packager/hls.ts';
import type {
  Part,
  PendingSegment,
  RunTrack,
  Segment,
  TimelineView,
  TrackInfo,
} from '../packager/timeline.ts';
import type { FileCache } from './file-cache.ts';
import type { Rendered, Renderings } from './renderings.ts';
import { parseRange, sendFile } from './send-file.ts';

export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Date',
};
export const NO_CACHE = { 'Cache-Control': 'no-cache', ...CORS };
export const IMMUTABLE = { 'Cache-Control': 'public, max-age=31536000, immutable', ...CORS };

const SEGMENT_PATH = /^(r[a-z0-9]+)\/([a-z0-9]+)\/(init\.mp4|seg_(\d{5,9})(?:\.p(\d{1,3}))?\.m4s)$/;
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
  /** Names the source for shared renderings ('live/<channelId>', 'dvr/<programId>', 'vod/<assetId>'). */
  readonly cacheKey: string;
  /** Changes whenever view() would (the timeline's version); renderings are shared while it holds. */
  readonly version: number;
  /** The channel's latency is `low`: LL-HLS and low-latency DASH (live and DVR). */
  readonly lowLatency: boolean;
  /** Part length FFmpeg writes, seconds. */
  readonly partSeconds: number;
  /** Resolves true at the next timeline change, false after `timeoutMs` (live and DVR). */
  waitForChange?(timeoutMs: number): Promise<boolean>;
}

export interface PlaybackContext {
  /** Absolute URL of the DASH clock (`/time`); asked only for MPDs. */
  utcTimingUrl(): string;
  /** Playlists and MPDs rendered once per timeline change. */
  renderings: Renderings;
  /** The request's query (LL-HLS: _HLS_msn, _HLS_part, _HLS_skip). */
  query?: URLSearchParams;
  /** Hot files in memory (none: every request reads the file). */
  cache?: FileCache;
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  return inm.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === `W/${etag}`;
  });
}

/** A rendering, or 304 when the client has it (HEAD: the headers only). */
function sendRendered(
  req: IncomingMessage,
  res: ServerResponse,
  r: Rendered,
  type: string,
  headers: Record<string, string>,
): void {
  const common = { ETag: r.etag, ...headers };
  if (notModified(req, r.etag)) {
    res.writeHead(304, common).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': r.body.length, ...common });
  if (req.method === 'HEAD') res.end();
  else res.end(r.body);
}

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

/** The LL-HLS query of a media playlist request; 400 for anything malformed. */
export interface HlsQuery {
  msn: number | undefined;
  part: number | undefined;
  skip: boolean;
}

const WHOLE = /^\d{1,9}$/;

export function parseHlsQuery(q: URLSearchParams | undefined): HlsQuery {
  const msnText = q?.get('_HLS_msn') ?? null;
  const partText = q?.get('_HLS_part') ?? null;
  const skipText = q?.get('_HLS_skip') ?? null;
  if (msnText !== null && !WHOLE.test(msnText))
    throw new OnairError('bad_request', '_HLS_msn must be a whole number');
  if (partText !== null && !WHOLE.test(partText))
    throw new OnairError('bad_request', '_HLS_part must be a whole number');
  if (partText !== null && msnText === null) throw new OnairError('bad_request', '_HLS_part needs _HLS_msn');
  if (skipText !== null && skipText !== 'YES' && skipText !== 'v2')
    throw new OnairError('bad_request', '_HLS_skip must be YES or v2');
  return {
    msn: msnText === null ? undefined : Number(msnText),
    part: partText === null ? undefined : Number(partText),
    skip: skipText !== null,
  };
}

/**
 * A blocking reload is answered once the playlist holds segment `msn` complete,
 * or (with `part`) that part of it: anything later satisfies it too.
 */
export function blockingSatisfied(
  end: PlaylistEnd | undefined,
  msn: number,
  part: number | undefined,
): boolean {
  if (!end) return false;
  if (end.msn > msn) return true;
  if (end.msn < msn) return false;
  if (end.complete) return true;
  return part !== undefined && (end.part ?? -1) >= part;
}

/** Holds a blocking reload at most this many target durations (then 503: the client retries). */
const BLOCK_TARGET_DURATIONS = 3;

async function waitUntil(source: PlaybackSource, ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    const left = deadline - Date.now();
    if (left <= 0 || !source.waitForChange) return false;
    await source.waitForChange(left);
  }
  return true;
}

function findTrack(view: TimelineView, runId: string, trackId: string): RunTrack | undefined {
  return view.runs.find((r) => r.id === runId)?.tracks.get(trackId);
}

/** The segment numbered `n` of a track: complete, being written, or neither yet. */
function lookup(
  track: RunTrack | undefined,
  n: number,
): { segment?: Segment; pending?: PendingSegment; next: boolean } {
  if (!track) return { next: false };
  const segment = track.segments.find((s) => s.number === n);
  if (segment) return { segment, next: false };
  if (track.pending?.number === n) return { pending: track.pending, next: false };
  const last = track.pending?.number ?? track.segments.at(-1)?.number;
  return { next: last !== undefined && n === last + 1 };
}

/** Bytes [offset, offset + length) of a segment file, complete or still being written (`.tmp`). */
async function readRange(file: string, offset: number, length: number, cache?: FileCache): Promise<Buffer> {
  const whole = cache?.get(file);
  if (whole) return whole.body.subarray(offset, offset + length);
  for (const name of [file, `${file}.tmp`, file]) {
    let fh;
    try {
      fh = await open(name, 'r');
    } catch {
      continue; // renamed between the two names: try the other
    }
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      if (bytesRead === length) return buf;
    } finally {
      await fh.close();
    }
  }
  throw new OnairError('not_found', 'part not found (it may have left the window)');
}

function sendBuffer(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  etag: string,
  type: string,
  headers: Record<string, string>,
): void {
  const common = { 'Content-Type': type, 'Accept-Ranges': 'bytes', ETag: etag, ...headers };
  if (notModified(req, etag)) {
    res.writeHead(304, { ETag: etag, ...headers }).end();
    return;
  }
  const range = parseRange(req.headers.range, body.length);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${String(body.length)}`, ...headers }).end();
    return;
  }
  const slice = range ? body.subarray(range.start, range.end + 1) : body;
  res.writeHead(range ? 206 : 200, {
    ...common,
    'Content-Length': slice.length,
    ...(range
      ? { 'Content-Range': `bytes ${String(range.start)}-${String(range.end)}/${String(body.length)}` }
      : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : slice);
}

/**
 * LL-DASH: the segment being written, sent part by part as FFmpeg completes
 * them (chunked transfer), then the rest once the file is complete.
 */
async function streamGrowing(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  file: string,
  find: () => { segment?: Segment; pending?: PendingSegment },
  type: string,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': type, ...IMMUTABLE });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let closed = false;
  res.on('close', () => (closed = true));
  let sent = 0;
  const deadline = Date.now() + source.segmentSeconds * 4 * 1000;
  while (!closed) {
    const { segment, pending } = find();
    const end = segment ? segment.bytes : pending ? partsEnd(pending.parts) : sent;
    if (end > sent) {
      const chunk = await readRange(file, sent, end - sent).catch(() => undefined);
      if (!chunk) break;
      res.write(chunk);
      sent = end;
    }
    if (segment) {
      res.end();
      return;
    }
    const left = deadline - Date.now();
    if (left <= 0 || !pending || !source.waitForChange) break;
    await source.waitForChange(left);
  }
  // The segment never completed (the encoder stopped): the client sees a cut response.
  res.destroy();
}

function partsEnd(parts: readonly Part[]): number {
  const last = parts.at(-1);
  return last ? last.offset + last.length : 0;
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
  const sm = SEGMENT_PATH.exec(rest);
  if (!sm) throw new OnairError('not_found', 'not found');
  const [, runId, trackId, name, numText, partText] = sm as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const type = trackId === 'audio' ? 'audio/mp4' : 'video/mp4';
  // The pattern admits no "..", so the file is always inside the source's folder.
  const segFile = path.join(
    source.dir,
    runId,
    trackId,
    partText === undefined ? name : name.replace(/\.p\d+\.m4s$/, '.m4s'),
  );
  const cache = ctx.cache;
  if (partText !== undefined) {
    await servePart(
      req,
      res,
      source,
      segFile,
      runId,
      trackId,
      Number(numText),
      Number(partText),
      type,
      cache,
    );
    return;
  }
  const whole = cache ? await cache.file(segFile) : undefined;
  if (whole) {
    sendBuffer(req, res, whole.body, whole.etag, type, IMMUTABLE);
    return;
  }
  if (live && numText !== undefined && ll) {
    // LL-DASH asks for the segment being written (or about to be): send it as it grows.
    const n = Number(numText);
    const find = () => lookup(findTrack(source.view(), runId, trackId), n);
    const found = find();
    if (!found.segment && (found.pending || found.next)) {
      if (
        !found.pending &&
        !(await waitUntil(
          source,
          () => find().pending !== undefined || find().segment !== undefined,
          source.segmentSeconds * 1000,
        ))
      ) {
        throw new OnairError('not_found', 'segment not written yet');
      }
      if (!find().segment) {
        await streamGrowing(req, res, source, segFile, find, type);
        return;
      }
    }
  }
  await sendFile(req, res, segFile, type, IMMUTABLE);
}

/** An LL-HLS part: a byte range of its segment, held a moment when it is the next one to be written. */
async function servePart(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  segFile: string,
  runId: string,
  trackId: string,
  n: number,
  k: number,
  type: string,
  cache: FileCache | undefined,
): Promise<void> {
  const find = (): Part | undefined => {
    const { segment, pending } = lookup(findTrack(source.view(), runId, trackId), n);
    return (segment?.parts ?? pending?.parts)?.[k];
  };
  let part = find();
  if (!part) {
    const { segment, pending, next } = lookup(findTrack(source.view(), runId, trackId), n);
    // The preload hint: the next part of the segment being written, or the first of the next one.
    const hinted = (pending && k === pending.parts.length) || (next && k === 0);
    if (!segment && !pending && !next && cache) {
      // A segment that left the window (its file is kept a while longer): its parts are its fragments.
      const whole = await cache.file(segFile);
      const r = whole ? splitParts(whole.body)[k] : undefined;
      if (whole && r) {
        const etag = `"p${r.offset.toString(16)}-${r.length.toString(16)}"`;
        sendBuffer(req, res, whole.body.subarray(r.offset, r.offset + r.length), etag, type, IMMUTABLE);
        return;
      }
    }
    if (segment || !hinted) throw new OnairError('not_found', 'no such part');
    await waitUntil(source, () => find() !== undefined, source.partSeconds * 6 * 1000);
    part = find();
    if (!part) throw new OnairError('not_found', 'part not written yet');
  }
  const key = `${segFile}#${String(k)}`;
  let item = cache?.get(key);
  if (!item) {
    const body = await readRange(segFile, part.offset, part.length, cache);
    item = { body, etag: `"p${part.offset.toString(16)}-${part.length.toString(16)}"` };
    cache?.set(key, item);
  }
  sendBuffer(req, res, item.body, item.etag, type, IMMUTABLE);
}

/** The tracks of the newest run of a view (the multivariant playlist of a DVR window or an asset). */
export function viewTracks(view: TimelineView): TrackInfo[] {
  const run = view.runs.at(-1);
  return run ? [...run.tracks.values()].map((t) => ({ ...t.info })) : [];
}
