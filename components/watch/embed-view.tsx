'use client';

import { useSearchParams } from 'next/navigation';
import { LivePlayer } from '../player/live-player.tsx';
import { parseFlag, parseProtocol } from '../player/select-engine.ts';

/** The chromeless player for iframes: ?autoplay, ?muted, ?protocol (hls, dash, webrtc), ?controls. */
export function EmbedView({ channelId }: { channelId: string }) {
  const params = useSearchParams();
  return (
    <LivePlayer
      channelId={channelId}
      protocol={parseProtocol(params.get('protocol'))}
      autoplay={parseFlag(params.get('autoplay'), true)}
      muted={parseFlag(params.get('muted'), true)}
      controls={parseFlag(params.get('controls'), true)}
      className="h-screen w-screen rounded-none [&_video]:h-full [&_video]:aspect-auto"
    />
  );
}
