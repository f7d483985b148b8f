'use client';

import { useSearchParams } from 'next/navigation';
import { LivePlayer, type PlayerMedia } from '../player/live-player.tsx';
import { parseFlag, parseProtocol } from '../player/select-engine.ts';

/** The chromeless player for iframes: ?autoplay, ?muted, ?protocol (hls, dash, webrtc), ?controls, ?token. */
export function EmbedView({ channelId, media }: { channelId: string; media?: PlayerMedia }) {
  const params = useSearchParams();
  return (
    <LivePlayer
      channelId={channelId}
      {...(media ? { media } : {})}
      token={params.get('token') ?? undefined}
      protocol={parseProtocol(params.get('protocol'))}
      autoplay={parseFlag(params.get('autoplay'), true)}
      muted={parseFlag(params.get('muted'), true)}
      controls={parseFlag(params.get('controls'), true)}
      className="h-screen w-screen rounded-none [&_video]:h-full [&_video]:aspect-auto"
    />
  );
}
