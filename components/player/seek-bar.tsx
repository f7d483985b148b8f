'use client';

/**
 * A seek bar over what the player can reach: the DVR window of a live program
 * (with the live edge at its right end), or the whole of a recording.
 */
import { useEffect, useState } from 'react';
import { formatClock, seekRange, type SeekRange } from './seek-range.ts';

export function SeekBar({ video, vod }: { video: HTMLVideoElement | null; vod: boolean }) {
  const [range, setRange] = useState<SeekRange | undefined>(undefined);
  const [dragging, setDragging] = useState<number | undefined>(undefined);

  useEffect(() => {
    if (!video) return;
    const update = () => setRange(seekRange(video, vod));
    update();
    const t = setInterval(update, 250);
    video.addEventListener('durationchange', update);
    return () => {
      clearInterval(t);
      video.removeEventListener('durationchange', update);
    };
  }, [video, vod]);

  if (!video || !range || !range.seekable) return null;
  const value = dragging ?? range.position;
  const label = vod
    ? `${formatClock(value - range.start)} / ${formatClock(range.end - range.start)}`
    : range.end - value > 1
      ? `−${formatClock(range.end - value)}`
      : 'Live';
  return (
    <div className="flex w-full items-center gap-3" data-testid="seek-bar">
      <input
        type="range"
        aria-label={vod ? 'Seek' : 'Seek in the DVR window'}
        min={range.start}
        max={range.end}
        step={0.1}
        value={value}
        onChange={(e) => setDragging(Number(e.target.value))}
        onPointerUp={() => {
          if (dragging !== undefined) video.currentTime = dragging;
          setDragging(undefined);
        }}
        onKeyUp={() => {
          if (dragging !== undefined) video.currentTime = dragging;
          setDragging(undefined);
        }}
        className="h-1.5 grow cursor-pointer accent-red-500"
      />
      <span
        className="w-24 shrink-0 text-right font-mono text-xs text-zinc-300 tabular-nums"
        data-testid="seek-label"
      >
        {label}
      </span>
    </div>
  );
}
