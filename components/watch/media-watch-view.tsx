'use client';

import { mediaBase, type PlayerMedia } from '../player/live-player.tsx';
import { LiveTag, usePolledInfo, useWatchParams, WatchFrame } from './watch-frame.tsx';

/** Public facts the origin gives about a program or an asset (info.json). */
interface MediaInfo {
  id: string;
  kind: 'program' | 'asset';
  name: string;
  channelId: string;
  state: 'live' | 'recorded';
  durationSeconds: number;
  startedAt: string | null;
}

export function mediaPath(media: PlayerMedia): string {
  return `/${media.kind === 'program' ? 'programs' : 'vod'}/${encodeURIComponent(media.id)}`;
}

/** The watch page of a program (DVR while it runs, its recording after) or of an asset. */
export function MediaWatchView({ media }: { media: PlayerMedia }) {
  const watch = useWatchParams();
  const { info, missing } = usePolledInfo<MediaInfo>(
    `${mediaBase('', '', media, watch.token)}/info.json`,
    true,
  );

  return (
    <WatchFrame
      watch={watch}
      channelId={info?.channelId ?? ''}
      media={media}
      title={info?.name ?? (missing ? 'Not available' : media.kind === 'program' ? 'Program' : 'Recording')}
      tag={
        info?.state === 'live' ? (
          <LiveTag />
        ) : info ? (
          <span className="rounded bg-zinc-700 px-1.5 py-0.5 text-xs font-semibold uppercase text-zinc-200">
            Recording
          </span>
        ) : null
      }
    >
      {info?.startedAt && (
        <p className="text-sm text-zinc-400">
          {info.state === 'live' ? 'Started' : 'Recorded'} {new Date(info.startedAt).toLocaleString()}
        </p>
      )}
      {missing && <p className="text-sm text-zinc-400">This recording does not exist or is not published.</p>}
    </WatchFrame>
  );
}
