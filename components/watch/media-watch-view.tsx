'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { LivePlayer, mediaBase, type PlayerMedia } from '../player/live-player.tsx';
import { parseProtocol, type Protocol } from '../player/select-engine.ts';

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
  const params = useSearchParams();
  const router = useRouter();
  const token = params.get('token') ?? undefined;
  const [protocol, setProtocol] = useState<Protocol>(parseProtocol(params.get('protocol')));
  const [info, setInfo] = useState<MediaInfo | undefined>(undefined);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    let stop = false;
    const load = () =>
      fetch(`${mediaBase('', '', media, token)}/info.json`, { cache: 'no-store' })
        .then((r) => {
          if (!stop) setMissing(r.status === 404);
          return r.ok ? (r.json() as Promise<MediaInfo>) : undefined;
        })
        .then((i) => !stop && i && setInfo(i))
        .catch(() => undefined);
    void load();
    const t = setInterval(() => void load(), 10_000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [media, token]);

  const switchProtocol = (p: Protocol) => {
    setProtocol(p);
    // The playback token stays in the address: a reload or a shared link keeps working.
    const q = new URLSearchParams({ protocol: p });
    if (token) q.set('token', token);
    router.replace(`?${q.toString()}`, { scroll: false });
  };

  return (
    <main className="mx-auto flex w-full max-w-5xl flex-col gap-4 px-3 py-4 sm:px-6 sm:py-8">
      <header className="flex items-center gap-3">
        <span className="inline-block h-2.5 w-2.5 rounded-full bg-red-500" aria-hidden />
        <span className="text-sm font-semibold tracking-tight text-zinc-400">onair</span>
      </header>
      <LivePlayer
        channelId={info?.channelId ?? ''}
        media={media}
        token={token}
        protocol={protocol}
        protocolSwitch
        onProtocolChange={switchProtocol}
        controls
        autoplay
        muted
      />
      <section className="flex flex-col gap-1">
        <div className="flex items-center gap-2">
          <h1 className="text-xl font-semibold">
            {info?.name ?? (missing ? 'Not available' : media.kind === 'program' ? 'Program' : 'Recording')}
          </h1>
          {info?.state === 'live' ? (
            <span className="rounded bg-red-600 px-1.5 py-0.5 text-xs font-bold uppercase text-white">
              Live
            </span>
          ) : info ? (
            <span className="rounded bg-zinc-700 px-1.5 py-0.5 text-xs font-semibold uppercase text-zinc-200">
              Recording
            </span>
          ) : null}
        </div>
        {info?.startedAt && (
          <p className="text-sm text-zinc-400">
            {info.state === 'live' ? 'Started' : 'Recorded'} {new Date(info.startedAt).toLocaleString()}
          </p>
        )}
        {missing && (
          <p className="text-sm text-zinc-400">This recording does not exist or is not published.</p>
        )}
      </section>
    </main>
  );
}
