/** What a seek bar covers: pure helpers, unit-tested. */
export interface SeekRange {
  start: number;
  end: number;
  position: number;
  /** Worth a seek bar: a recording, or a live window long enough to scrub (a DVR window). */
  seekable: boolean;
}

/** Below this a live window is just the live edge: no seek bar. */
export const MIN_DVR_SECONDS = 30;

export function rangeOf(
  seekable: { length: number; start(i: number): number; end(i: number): number },
  currentTime: number,
  duration: number,
  vod: boolean,
): SeekRange | undefined {
  if (vod && Number.isFinite(duration) && duration > 0) {
    return { start: 0, end: duration, position: Math.min(currentTime, duration), seekable: true };
  }
  if (seekable.length === 0) return undefined;
  const start = seekable.start(0);
  const end = seekable.end(seekable.length - 1);
  return {
    start,
    end,
    position: Math.min(Math.max(currentTime, start), end),
    seekable: vod || end - start >= MIN_DVR_SECONDS,
  };
}

export function seekRange(video: HTMLVideoElement, vod: boolean): SeekRange | undefined {
  return rangeOf(video.seekable, video.currentTime, video.duration, vod);
}

/** 0:07, 12:05, 1:02:03 (never negative). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
