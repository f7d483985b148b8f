'use client';
import { useEffect, useState } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import type { Channel } from '../../lib/schemas.ts';

/** How long the console's own tokens (previews, thumbnails) live, and when they are renewed. */
const LIFETIME_SECONDS = 3600;
const RENEW_BEFORE_MS = 5 * 60_000;
/** Dispatched on window after the playback secret is rotated: every token so far is void. */
export const SECRET_ROTATED_EVENT = 'onair:playback-secret-rotated';

/**
 * A playback token for the console's own views of a channel that needs one
 * (its preview, its thumbnail); undefined for a public channel. Renewed before
 * it expires.
 */
export function usePlaybackToken(channel: Pick<Channel, 'id' | 'playback'>): string | undefined {
  const [token, setToken] = useState<{ channelId: string; value: string }>();
  const needed = channel.playback === 'token';

  useEffect(() => {
    if (!needed) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const mint = () => {
      new ApiClient()
        .mintPlaybackToken(channel.id, { expiresInSeconds: LIFETIME_SECONDS })
        .then((t) => {
          if (!alive) return;
          setToken({ channelId: channel.id, value: t.token });
          timer = setTimeout(mint, Math.max(10_000, Date.parse(t.expiresAt) - Date.now() - RENEW_BEFORE_MS));
        })
        .catch(() => {
          if (alive) timer = setTimeout(mint, 10_000);
        });
    };
    mint();
    const renew = () => {
      clearTimeout(timer);
      mint();
    };
    window.addEventListener(SECRET_ROTATED_EVENT, renew);
    return () => {
      alive = false;
      clearTimeout(timer);
      window.removeEventListener(SECRET_ROTATED_EVENT, renew);
    };
  }, [channel.id, needed]);

  return needed && token?.channelId === channel.id ? token.value : undefined;
}
