/**
 * How the watch page, the embed and the console configure hls.js and dash.js: a pure function of what
 * is played, shared with the bench (bench/low-latency.ts measures the delay with exactly these).
 */
import { STANDARD_DASH_DELAY_SEGMENTS, STANDARD_HLS_SYNC_SEGMENTS } from './select-engine.ts';

export interface PlayerConfigOptions {
  /** A program's DVR window or a recording: the viewer may scrub; no catch-up to live. */
  dvr: boolean;
  /** The stream offers LL-HLS parts / chunked DASH. */
  lowLatency: boolean;
}

/** hls.js constructor options (plain JSON). */
export function hlsConfig(opts: PlayerConfigOptions): Record<string, unknown> {
  const standardLive = !opts.dvr && !opts.lowLatency;
  return {
    // LL-HLS playlists: parts and blocking reloads, PART-HOLD-BACK behind live. A standard live
    // window: a fixed number of segments behind its end (this overrides the playlist's HOLD-BACK).
    lowLatencyMode: opts.lowLatency,
    ...(standardLive ? { liveSyncDurationCount: STANDARD_HLS_SYNC_SEGMENTS } : {}),
    // Near live, play up to 10 % faster to hold the target delay (not in a DVR window).
    maxLiveSyncPlaybackRate: opts.dvr ? 1 : 1.1,
    manifestLoadingMaxRetry: 2,
    levelLoadingMaxRetry: 4,
  };
}

/**
 * hls.js options set after construction: a channel's live window jumps back to live when 10
 * segments behind; a DVR window stays where the viewer seeks (hls.js' default). hls.js accepts
 * this in the constructor only beside liveSyncDurationCount, which would override the playlists'
 * hold-back.
 */
export function hlsConfigAfter(opts: PlayerConfigOptions): Record<string, unknown> {
  return opts.dvr ? {} : { liveMaxLatencyDurationCount: 10 };
}

/**
 * dash.js settings. Low-latency MPDs (chunked segments) carry their latency target in a
 * ServiceDescription, which dash.js applies with catch-up; a standard live window plays a fixed
 * number of segments behind the live edge (its suggestedPresentationDelay of 3 segments is for
 * other players); a DVR window its suggestedPresentationDelay, without catch-up (which would pull,
 * or seek, a viewer who scrubbed back to live; hls.js does not catch up there either).
 */
export function dashSettings(opts: PlayerConfigOptions): { streaming: Record<string, unknown> } {
  const standardLive = !opts.dvr && !opts.lowLatency;
  return {
    streaming: {
      delay: standardLive
        ? { useSuggestedPresentationDelay: false, liveDelayFragmentCount: STANDARD_DASH_DELAY_SEGMENTS }
        : { useSuggestedPresentationDelay: true },
      ...(opts.dvr ? { liveCatchup: { enabled: false } } : {}),
      retryAttempts: { MPD: 2 },
    },
  };
}
