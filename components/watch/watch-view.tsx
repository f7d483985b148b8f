'use client';

import { liveBase } from '../player/live-player.tsx';
import { LiveTag, usePolledInfo, useWatchParams, WatchFrame } from './watch-frame.tsx';

interface PublicChannel {
  id: string;
  name: string;
  description: string;
  live: boolean;
}

export function WatchView({ channelId }: { channelId: string }) {
  const watch = useWatchParams();
  const { info } = usePolledInfo<PublicChannel>(
    `${liveBase('', channelId, watch.token)}/channel.json`,
    false,
  );

  return (
    <WatchFrame
      watch={watch}
      channelId={channelId}
      title={info?.name ?? 'Live channel'}
      tag={info?.live && <LiveTag />}
    >
      {info?.description ? <p className="text-sm text-zinc-400">{info.description}</p> : null}
    </WatchFrame>
  );
}
