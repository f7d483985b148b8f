'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState, type ReactNode } from 'react';
import { LivePlayer, type PlayerMedia } from '../player/live-player.tsx';
import { parseProtocol, type Protocol } from '../player/select-engine.ts';

/** The watch page's address: its playback token and the chosen protocol, which a switch writes back. */
export interface WatchParams {
  token: string | undefined;
  protocol: Protocol;
  switchProtocol: (p: Protocol) => void;
}

export function useWatchParams(): WatchParams {
  const params = useSearchParams();
  const router = useRouter();
  const token = params.get('token') ?? undefined;
  const [protocol, setProtocol] = useState<Protocol>(parseProtocol(params.get('protocol')));

  const switchProtocol = (p: Protocol) => {
    setProtocol(p);
    // The playback token stays in the address: a reload or a shared link keeps working.
    const q = new URLSearchParams({ protocol: p });
    if (token) q.set('token', token);
    router.replace(`?${q.toString()}`, { scroll: false });
  };
  return { token, protocol, switchProtocol };
}

/**
 * Public JSON about what is being watched, fetched now and every 10 s. A failed answer clears
 * what was known unless `keepOnError`; `missing` is whether the last answer was a 404.
 */
export function usePolledInfo<T>(
  url: string,
  keepOnError: boolean,
): { info: T | undefined; missing: boolean } {
  const [info, setInfo] = useState<T | undefined>(undefined);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    let stop = false;
    const load = () =>
      fetch(url, { cache: 'no-store' })
        .then((r) => {
          if (!stop) setMissing(r.status === 404);
          return r.ok ? (r.json() as Promise<T>) : undefined;
        })
        .then((i) => !stop && (i || !keepOnError) && setInfo(i))
        .catch(() => undefined);
    void load();
    const t = setInterval(() => void load(), 10_000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [url, keepOnError]);

  return { info, missing };
}

/** The red “Live” tag beside a watch page's title. */
export function LiveTag() {
  return (
    <span className="rounded bg-red-600 px-1.5 py-0.5 text-xs font-bold uppercase text-white">Live</span>
  );
}

/** A public watch page: the brand, the player with a protocol switch, then the title, a tag and more lines. */
export function WatchFrame({
  watch,
  channelId,
  media,
  title,
  tag,
  children,
}: {
  watch: WatchParams;
  channelId: string;
  media?: PlayerMedia;
  title: ReactNode;
  tag: ReactNode;
  children?: ReactNode;
}) {
  return (
    <main className="mx-auto flex w-full max-w-5xl flex-col gap-4 px-3 py-4 sm:px-6 sm:py-8">
      <header className="flex items-center gap-3">
        <span className="inline-block h-2.5 w-2.5 rounded-full bg-red-500" aria-hidden />
        <span className="text-sm font-semibold tracking-tight text-zinc-400">onair</span>
      </header>
      <LivePlayer
        channelId={channelId}
        {...(media ? { media } : {})}
        token={watch.token}
        protocol={watch.protocol}
        protocolSwitch
        onProtocolChange={watch.switchProtocol}
        controls
        autoplay
        muted
      />
      <section className="flex flex-col gap-1">
        <div className="flex items-center gap-2">
          <h1 className="text-xl font-semibold">{title}</h1>
          {tag}
        </div>
        {children}
      </section>
    </main>
  );
}
