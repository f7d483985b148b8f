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

/**
 * Playback tokens for the console's views of recordings: one per channel (a
 * channel token opens its assets), renewed like usePlaybackToken's. A channel
 * that no longer exists gets none (its recordings are public).
 */
export function useChannelTokens(channelIds: readonly string[]): Readonly<Record<string, string>> {
  const [tokens, setTokens] = useState<Record<string, string>>({});
  const key = [...new Set(channelIds)].sort().join(',');

  useEffect(() => {
    const ids = key ? key.split(',') : [];
    if (ids.length === 0) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const mint = async () => {
      const api = new ApiClient();
      const next: Record<string, string> = {};
      let soonest = Infinity;
      await Promise.all(
        ids.map(async (id) => {
          try {
            const t = await api.mintPlaybackToken(id, { expiresInSeconds: LIFETIME_SECONDS });
            next[id] = t.token;
            soonest = Math.min(soonest, Date.parse(t.expiresAt));
          } catch {
            // a deleted channel: its recordings need no token
          }
        }),
      );
      if (!alive) return;
      setTokens(next);
      const wait = Number.isFinite(soonest)
        ? soonest - Date.now() - RENEW_BEFORE_MS
        : LIFETIME_SECONDS * 1000;
      timer = setTimeout(() => void mint(), Math.max(10_000, wait));
    };
    void mint();
    const renew = () => {
      clearTimeout(timer);
      void mint();
    };
    window.addEventListener(SECRET_ROTATED_EVENT, renew);
    return () => {
      alive = false;
      clearTimeout(timer);
      window.removeEventListener(SECRET_ROTATED_EVENT, renew);
    };
  }, [key]);

  return tokens;
}
