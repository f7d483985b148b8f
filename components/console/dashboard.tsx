'use client';
import Link from 'next/link';
import { useState } from 'react';
import { ApiClient, type ChannelStats } from '../../lib/api-client.ts';
import type { Channel } from '../../lib/schemas.ts';
import { LoadError } from './load-error.tsx';
import { LiveBadge } from '../ui/badge.tsx';
import { Button } from '../ui/button.tsx';
import { Spinner } from '../ui/spinner.tsx';
import { formatKbps } from './format.ts';
import { NewChannelDialog } from './new-channel-dialog.tsx';
import { StateBadge } from './state-badge.tsx';
import { Thumbnail } from './thumbnail.tsx';
import { usePlaybackToken } from './use-playback-token.ts';
import { usePoll } from './use-poll.ts';

interface ChannelRow {
  channel: Channel;
  stats: ChannelStats | undefined;
  runningPrograms: number;
}

async function loadDashboard(): Promise<{ rows: ChannelRow[]; tick: number }> {
  const api = new ApiClient();
  const page = await api.listChannels();
  const rows = await Promise.all(
    page.items.map(async (channel): Promise<ChannelRow> => {
      const [stats, programs] = await Promise.all([
        channel.state === 'running'
          ? api.channelStats(channel.id).catch(() => undefined)
          : Promise.resolve(undefined),
        api.listPrograms(channel.id).catch(() => undefined),
      ]);
      return {
        channel,
        stats,
        runningPrograms: programs?.items.filter((p) => p.state === 'running').length ?? 0,
      };
    }),
  );
  return { rows, tick: Date.now() };
}

export function Dashboard() {
  const poll = usePoll(loadDashboard, 3000);
  const [creating, setCreating] = useState(false);
  const rows = poll.data?.rows;

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Channels</h1>
          <p className="mt-1 text-sm text-zinc-400">
            Each channel takes one live publisher and plays it as HLS and DASH.
          </p>
        </div>
        <Button variant="primary" onClick={() => setCreating(true)} icon={<span aria-hidden>+</span>}>
          New channel
        </Button>
      </div>

      {poll.error && <LoadError what="the channels" error={poll.error} onRetry={poll.refresh} />}

      {!rows && poll.loading && (
        <div role="status" className="flex items-center gap-2 py-10 text-sm text-zinc-400">
          <Spinner /> Loading channels…
        </div>
      )}

      {rows && rows.length === 0 && (
        <section
          aria-label="No channels yet"
          className="flex flex-col items-center gap-3 rounded-lg border border-dashed border-zinc-700 px-6 py-14 text-center"
        >
          <div
            aria-hidden
            className="flex h-12 w-12 items-center justify-center rounded-full bg-zinc-900 text-red-400"
          >
            <svg
              viewBox="0 0 24 24"
              className="h-6 w-6"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.75"
              strokeLinecap="round"
            >
              <circle cx="12" cy="12" r="2" fill="currentColor" />
              <path d="M8.5 8.5a5 5 0 0 0 0 7M15.5 8.5a5 5 0 0 1 0 7M5.6 5.6a9 9 0 0 0 0 12.8M18.4 5.6a9 9 0 0 1 0 12.8" />
            </svg>
          </div>
          <h2 className="text-lg font-medium">No channels yet</h2>
          <p className="max-w-md text-sm text-zinc-400">
            Create a channel, start it, then go live from this browser&apos;s camera or point OBS at its WHIP
            URL. Viewers watch on the channel&apos;s watch page or an embedded player.
          </p>
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create your first channel
          </Button>
        </section>
      )}

      {rows && rows.length > 0 && (
        <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Channels">
          {rows.map(({ channel, stats, runningPrograms }) => (
            <li key={channel.id}>
              <Link
                href={`/console/channels/${encodeURIComponent(channel.id)}`}
                className="group block overflow-hidden rounded-lg border border-zinc-800 bg-zinc-900/60 transition-colors hover:border-zinc-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
                data-testid="channel-card"
              >
                <div className="relative">
                  <CardThumbnail channel={channel} tick={poll.data?.tick ?? 0} />
                  {channel.live && <LiveBadge className="absolute top-2 left-2" />}
                </div>
                <div className="flex flex-col gap-2 p-4">
                  <div className="flex items-start justify-between gap-2">
                    <h2 className="min-w-0 truncate font-medium group-hover:text-white">{channel.name}</h2>
                    <StateBadge state={channel.state} />
                  </div>
                  <dl className="grid grid-cols-3 gap-2 text-xs">
                    <div>
                      <dt className="text-zinc-500">Ingest</dt>
                      <dd className="font-mono text-zinc-200 tabular-nums">
                        {channel.state === 'running' && stats?.ingest ? formatKbps(stats.ingest.kbps) : '—'}
                      </dd>
                    </div>
                    <div>
                      <dt className="text-zinc-500">Programs</dt>
                      <dd className="text-zinc-200 tabular-nums">
                        {runningPrograms > 0 ? `${runningPrograms} running` : 'none running'}
                      </dd>
                    </div>
                    <div>
                      <dt className="text-zinc-500">Output</dt>
                      <dd className="text-zinc-200">
                        {channel.mode === 'encode'
                          ? channel.ladder
                          : channel.mode === 'passthrough'
                            ? 'passthrough'
                            : 'multi-bitrate'}
                      </dd>
                    </div>
                  </dl>
                </div>
              </Link>
            </li>
          ))}
        </ul>
      )}

      <NewChannelDialog open={creating} onClose={() => setCreating(false)} onCreated={poll.refresh} />
    </div>
  );
}

/** A card's live picture; a channel that needs a playback token gets one minted for the console. */
function CardThumbnail({ channel, tick }: { channel: Channel; tick: number }) {
  const token = usePlaybackToken(channel);
  return (
    <Thumbnail
      channelId={channel.id}
      live={channel.live && (channel.playback === 'public' || token !== undefined)}
      tick={tick}
      name={channel.name}
      token={token}
    />
  );
}
