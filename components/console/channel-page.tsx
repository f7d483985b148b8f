'use client';
import Link from 'next/link';
import { useCallback } from 'react';
import { ApiClient, ApiError, type ChannelEvent, type ChannelStats } from '../../lib/api-client.ts';
import type { Channel, ProgramView } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { LoadError } from './load-error.tsx';
import { LiveBadge } from '../ui/badge.tsx';
import { buttonClasses } from '../ui/button.tsx';
import { Spinner } from '../ui/spinner.tsx';
import { BrowserPublisher } from './browser-publisher.tsx';
import { channelPhase } from './channel-actions.ts';
import { ChannelControls } from './channel-controls.tsx';
import { HealthPanel } from './health-panel.tsx';
import { IngestPanel } from './ingest-panel.tsx';
import { InputsPanel } from './inputs-panel.tsx';
import { PhaseBanner } from './phase-banner.tsx';
import { PlaybackPanel } from './playback-panel.tsx';
import { PreviewPanel } from './preview-panel.tsx';
import { ProgramsPanel } from './programs-panel.tsx';
import { StateBadge } from './state-badge.tsx';
import { usePoll } from './use-poll.ts';

export interface ChannelData {
  channel: Channel;
  stats: ChannelStats | undefined;
  programs: ProgramView[];
  events: ChannelEvent[];
  at: number;
}

async function loadChannel(id: string): Promise<ChannelData> {
  const api = new ApiClient();
  const channel = await api.getChannel(id);
  const [stats, programs, events] = await Promise.all([
    channel.state === 'stopped' ? Promise.resolve(undefined) : api.channelStats(id).catch(() => undefined),
    api.listPrograms(id),
    api.channelEvents(id, 30),
  ]);
  return { channel, stats, programs: programs.items, events: events.items, at: Date.now() };
}

export function ChannelPage({ channelId }: { channelId: string }) {
  const load = useCallback(() => loadChannel(channelId), [channelId]);
  const poll = usePoll(load, 2000, channelId);
  const data = poll.data;

  if (!data) {
    const missing = poll.errorValue instanceof ApiError && poll.errorValue.status === 404;
    return (
      <div className="flex flex-col gap-4">
        <BackLink />
        {missing ? (
          <Alert tone="error">This channel does not exist. It may have been deleted.</Alert>
        ) : poll.error ? (
          <LoadError what="the channel" error={poll.error} onRetry={poll.refresh} />
        ) : (
          <div role="status" className="flex items-center gap-2 py-10 text-sm text-zinc-400">
            <Spinner /> Loading the channel…
          </div>
        )}
      </div>
    );
  }

  const { channel, stats, programs, events } = data;
  const phase = channelPhase(channel.state, channel.live, stats?.output?.segments);

  return (
    <div className="flex flex-col gap-5">
      <BackLink />
      <div className="flex flex-col gap-4 lg:flex-row lg:items-start lg:justify-between">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <h1 className="min-w-0 text-2xl font-semibold tracking-tight break-words">{channel.name}</h1>
            <StateBadge state={channel.state} />
            {channel.live && <LiveBadge />}
          </div>
          <p className="mt-1 text-xs text-zinc-500">
            <span className="font-mono">{channel.id}</span> ·{' '}
            {channel.mode === 'encode'
              ? `encode, ${channel.ladder} ladder`
              : channel.mode === 'passthrough'
                ? 'passthrough'
                : 'multi-bitrate passthrough'}{' '}
            · {channel.segmentSeconds} s segments
          </p>
        </div>
        <ChannelControls channel={channel} onChanged={poll.refresh} />
      </div>

      {poll.error && (
        <Alert tone="warning">Lost contact with the server; showing the last known state. {poll.error}</Alert>
      )}
      <PhaseBanner phase={phase} />

      <div className="grid grid-cols-1 gap-5 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="flex min-w-0 flex-col gap-5">
          <PreviewPanel channel={channel} phase={phase} />
          {/* A multi-bitrate channel takes its renditions over RTMP, not one WHIP stream. */}
          {channel.mode !== 'passthrough-abr' && (
            <BrowserPublisher channel={channel} onChanged={poll.refresh} />
          )}
          <HealthPanel stats={stats} events={events} channelState={channel.state} now={data.at} />
        </div>
        <div className="flex min-w-0 flex-col gap-5">
          <IngestPanel channel={channel} />
          {channel.mode !== 'passthrough-abr' && (
            <InputsPanel channel={channel} inputs={stats?.inputs} onChanged={poll.refresh} />
          )}
          <PlaybackPanel channel={channel} onChanged={poll.refresh} />
        </div>
      </div>
      <ProgramsPanel channel={channel} programs={programs} now={data.at} onChanged={poll.refresh} />
    </div>
  );
}

function BackLink() {
  return (
    <Link href="/console" className={buttonClasses('ghost', 'sm', 'self-start -ml-3')}>
      <span aria-hidden>←</span> All channels
    </Link>
  );
}
