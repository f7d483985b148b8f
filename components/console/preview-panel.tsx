'use client';
import type { Channel } from '../../lib/schemas.ts';
import { LivePlayer } from '../player/live-player.tsx';
import { Panel } from '../ui/card.tsx';
import { Spinner } from '../ui/spinner.tsx';
import type { ChannelPhase } from './channel-actions.ts';
import { usePlaybackToken } from './use-playback-token.ts';

/**
 * The channel in real time, straight from the SFU over WebRTC (WHEP): well under
 * a second behind the publisher. Falls back to the HLS output (a few seconds
 * behind) where WebRTC cannot connect.
 */
export function PreviewPanel({ channel, phase }: { channel: Channel; phase: ChannelPhase }) {
  // A channel that needs a playback token is previewed with one minted for the console.
  const token = usePlaybackToken(channel);
  const waitingForToken = channel.playback === 'token' && token === undefined;
  return (
    <Panel
      id="preview"
      title="Preview"
      description="What the publisher sends, in real time over WebRTC (HLS where WebRTC cannot connect)."
    >
      <div className="overflow-hidden rounded-md bg-black">
        {phase === 'stopped' ? (
          <div className="flex aspect-video items-center justify-center p-4 text-center text-sm text-zinc-500">
            The channel is stopped. Start it and go live to see the output here.
          </div>
        ) : waitingForToken ? (
          <div
            role="status"
            className="flex aspect-video items-center justify-center gap-2 text-sm text-zinc-400"
          >
            <Spinner /> Signing a preview link…
          </div>
        ) : (
          <LivePlayer
            key={channel.id}
            channelId={channel.id}
            token={token}
            protocol="webrtc"
            fallbackProtocol="hls"
            autoplay
            muted
            controls={false}
            className="aspect-video w-full"
          />
        )}
      </div>
    </Panel>
  );
}
