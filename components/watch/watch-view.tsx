'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { LivePlayer, liveBase } from '../player/live-player.tsx';
import { parseProtocol, type Protocol } from '../player/select-engine.ts';

interface PublicChannel {
  id: string;
  name: string;
  description: string;
  live: boolean;
}

export function WatchView({ channelId }: { channelId: string }) {
  const params = useSearchParams();
  const router = useRouter();
  const token = params.get('token') ?? undefined;
  const [protocol, setProtocol] = useState<Protocol>(parseProtocol(params.get('protocol')));
  const [info, setInfo] = useState<PublicChannel | undefined>(undefined);

  useEffect(() => {
    let stop = false;
    const load = () =>
      fetch(`${liveBase('', channelId, token)}/channel.json`, { cache: 'no-store' })
        .then((r) => (r.ok ? (r.json() as Promise<PublicChannel>) : undefined))
        .then((c) => !stop && setInfo(c))
        .catch(() => undefined);
    void load();
    const t = setInterval(() => void load(), 10_000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [channelId, token]);

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
        channelId={channelId}
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
          <h1 className="text-xl font-semibold">{info?.name ?? 'Live channel'}</h1>
          {info?.live && (
            <span className="rounded bg-red-600 px-1.5 py-0.5 text-xs font-bold uppercase text-white">
              Live
            </span>
          )}
        </div>
        {info?.description ? <p className="text-sm text-zinc-400">{info.description}</p> : null}
      </section>
    </main>
  );
}
