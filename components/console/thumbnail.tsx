'use client';
import { useEffect, useState } from 'react';
import { liveBase } from '../player/live-player.tsx';
import { cx } from '../ui/cx.ts';

/**
 * The channel's live thumbnail (a JPEG the server refreshes every few seconds),
 * reloaded whenever `tick` changes; a placeholder while there is none.
 */
export function Thumbnail({
  channelId,
  live,
  tick,
  name,
  token,
  className,
}: {
  channelId: string;
  live: boolean;
  tick: number;
  name: string;
  /** A playback token, for a channel that needs one. */
  token?: string;
  className?: string;
}) {
  const [src, setSrc] = useState<string>();

  useEffect(() => {
    if (!live) {
      setSrc(undefined);
      return;
    }
    let alive = true;
    const url = `${liveBase('', channelId, token)}/thumbnail.jpg?t=${tick}`;
    const img = new Image();
    img.onload = () => alive && setSrc(url);
    img.onerror = () => alive && setSrc(undefined);
    img.src = url;
    return () => {
      alive = false;
    };
  }, [channelId, live, tick, token]);

  return (
    <div className={cx('relative aspect-video overflow-hidden bg-zinc-900', className)}>
      {src ? (
        <img src={src} alt={`Live picture of ${name}`} className="h-full w-full object-cover" />
      ) : (
        <div className="flex h-full w-full flex-col items-center justify-center gap-2 bg-[radial-gradient(ellipse_at_center,var(--color-zinc-800),var(--color-zinc-900))] text-zinc-500">
          <svg
            aria-hidden
            viewBox="0 0 24 24"
            className="h-8 w-8"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.5"
          >
            <rect x="2.5" y="6" width="13" height="12" rx="2" />
            <path d="m15.5 10 6-3.5v11l-6-3.5" />
          </svg>
          <span className="text-xs">{live ? 'Waiting for a picture…' : 'No picture'}</span>
        </div>
      )}
    </div>
  );
}
