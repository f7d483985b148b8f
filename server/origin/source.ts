/**
 * What the origin serves: one playback source (a channel's live window, a
 * program's DVR window, or an asset), the context of a request, and waiting
 * for a source's timeline to change.
 */
import type { TimelineView, TrackInfo } from '../packager/timeline.ts';
import type { FileCache } from './file-cache.ts';
import type { Renderings } from './renderings.ts';

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
  /**
   * Only media of the view may be served (a program's window over its channel's folder, which also
   * holds segments before the program and segments of earlier runs): anything else is a 404.
   */
  readonly confined?: boolean;
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

/** Resolves true once `ok()` holds, false when `timeoutMs` passes first (or the source never changes). */
export async function waitUntil(
  source: PlaybackSource,
  ok: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    const left = deadline - Date.now();
    if (left <= 0 || !source.waitForChange) return false;
    await source.waitForChange(left);
  }
  return true;
}

/** The tracks of the newest run of a view (the multivariant playlist of a DVR window or an asset). */
export function viewTracks(view: TimelineView): TrackInfo[] {
  const run = view.runs.at(-1);
  return run ? [...run.tracks.values()].map((t) => ({ ...t.info })) : [];
}
