'use client';
/**
 * Assets: what programs recorded and the clips cut from them. A poster, the
 * duration and size of each; publish or unpublish, play on demand, download the
 * MP4, delete (after a confirmation).
 */
import { useState } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import type { AssetView } from '../../lib/schemas.ts';
import { LivePlayer } from '../player/live-player.tsx';
import { Alert } from '../ui/alert.tsx';
import { Badge } from '../ui/badge.tsx';
import { Button } from '../ui/button.tsx';
import { Dialog } from '../ui/dialog.tsx';
import { Spinner } from '../ui/spinner.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { formatBytes, formatDuration } from './format.ts';
import { LoadError } from './load-error.tsx';
import { useChannelTokens } from './use-playback-token.ts';
import { usePoll } from './use-poll.ts';
import { useRequest } from './use-request.ts';

const loadAssets = () => new ApiClient().listAssets();

export function AssetsPage() {
  const poll = usePoll(loadAssets, 5000);
  const [playing, setPlaying] = useState<AssetView>();
  const [deleting, setDeleting] = useState<AssetView>();
  const { busy, error, setError, run } = useRequest<string>();
  /** Publishing as the viewer just set it, until the server's answer is in the list. */
  const [published, setPublished] = useState<Record<string, boolean>>({});
  const assets = poll.data?.items.slice().reverse();
  // Recordings of a channel that needs playback tokens are played with the console's own.
  const tokens = useChannelTokens(assets?.map((a) => a.channelId) ?? []);
  const signedMedia = (a: AssetView, url: string) => {
    const t = tokens[a.channelId];
    return t ? url.replace(`/vod/${a.id}/`, `/vod/${a.id}/t/${encodeURIComponent(t)}/`) : url;
  };
  const signedPage = (a: AssetView, url: string) => {
    const t = tokens[a.channelId];
    return t ? `${url}?token=${encodeURIComponent(t)}` : url;
  };

  const togglePublished = async (a: AssetView, next: boolean) => {
    setPublished((p) => ({ ...p, [a.id]: next }));
    await run(
      a.id,
      async () => {
        await new ApiClient().updateAsset(a.id, { published: next });
        poll.refresh();
      },
      {
        failure: `Could not change “${a.name}”.`,
        undo: () => setPublished(({ [a.id]: _, ...rest }) => rest),
      },
    );
  };

  const remove = async () => {
    if (!deleting) return;
    const id = deleting.id;
    await run(id, async () => {
      await new ApiClient().deleteAsset(id);
      setDeleting(undefined);
      poll.refresh();
    });
  };

  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Assets</h1>
        <p className="mt-1 text-sm text-zinc-400">
          Recordings of programs and clips cut from them, played on demand over HLS and DASH. Unpublished
          assets are hidden from viewers.
        </p>
      </div>
      {poll.error && <LoadError what="the assets" error={poll.error} onRetry={poll.refresh} />}
      {error && !deleting && <Alert tone="error">{error}</Alert>}
      {!assets && poll.loading && (
        <div role="status" className="flex items-center gap-2 py-10 text-sm text-zinc-400">
          <Spinner /> Loading assets…
        </div>
      )}
      {assets && assets.length === 0 && (
        <p className="rounded-lg border border-dashed border-zinc-700 px-6 py-14 text-center text-sm text-zinc-400">
          No assets yet. Start a program on a live channel; when it stops, its recording appears here.
        </p>
      )}
      {assets && assets.length > 0 && (
        <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Assets">
          {assets.map((a) => (
            <li
              key={a.id}
              data-testid="asset-card"
              className="flex flex-col overflow-hidden rounded-lg border border-zinc-800 bg-zinc-900/60"
            >
              <button
                type="button"
                onClick={() => setPlaying(a)}
                disabled={a.status !== 'ready'}
                className="group relative aspect-video w-full bg-black"
                aria-label={`Play ${a.name}`}
              >
                {a.status === 'ready' ? (
                  <img
                    src={signedMedia(a, a.urls.poster)}
                    alt=""
                    className="h-full w-full object-cover opacity-90 group-hover:opacity-100"
                  />
                ) : (
                  <span className="flex h-full items-center justify-center text-xs text-zinc-500">
                    {a.status === 'processing' ? 'Preparing…' : 'Not playable'}
                  </span>
                )}
                <span className="absolute right-2 bottom-2 rounded bg-black/80 px-1.5 py-0.5 font-mono text-xs text-white tabular-nums">
                  {formatDuration(a.durationSeconds)}
                </span>
              </button>
              <div className="flex flex-col gap-2 p-3">
                <div className="flex items-start justify-between gap-2">
                  <h2 className="min-w-0 truncate text-sm font-semibold" title={a.name}>
                    {a.name}
                  </h2>
                  <div className="flex shrink-0 gap-1">
                    <Badge tone="neutral">{a.kind}</Badge>
                    {a.status !== 'ready' && (
                      <Badge tone={a.status === 'failed' ? 'red' : 'neutral'}>{a.status}</Badge>
                    )}
                  </div>
                </div>
                <p className="text-xs text-zinc-500">
                  {new Date(a.rangeStart ?? a.createdAt).toLocaleString()} · {formatBytes(a.bytes)}
                </p>
                <label className="flex items-center gap-2 text-xs text-zinc-300">
                  <input
                    type="checkbox"
                    checked={published[a.id] ?? a.published}
                    disabled={busy === a.id}
                    onChange={(e) => void togglePublished(a, e.target.checked)}
                    className="h-4 w-4 accent-red-500"
                  />
                  Published
                </label>
                <div className="flex flex-wrap gap-2">
                  <Button size="sm" onClick={() => setPlaying(a)} disabled={a.status !== 'ready'}>
                    Play
                  </Button>
                  <a
                    href={signedMedia(a, a.urls.download)}
                    className="inline-flex items-center rounded border border-zinc-700 px-2.5 py-1 text-xs font-medium text-zinc-200 hover:bg-zinc-800"
                    download
                  >
                    Download MP4
                  </a>
                  <a
                    href={signedPage(a, a.urls.watch)}
                    target="_blank"
                    rel="noopener"
                    className="inline-flex items-center px-1 py-1 text-xs text-sky-400 hover:underline"
                  >
                    Watch page ↗
                  </a>
                  <span className="grow" />
                  <Button
                    size="sm"
                    variant="ghost"
                    onClick={() => setDeleting(a)}
                    aria-label={`Delete ${a.name}`}
                  >
                    Delete
                  </Button>
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
      <Dialog
        open={playing !== undefined}
        onClose={() => setPlaying(undefined)}
        title={playing?.name ?? ''}
        className="max-w-3xl"
      >
        {playing && (
          <LivePlayer
            channelId={playing.channelId}
            media={{ kind: 'asset', id: playing.id }}
            token={tokens[playing.channelId]}
            autoplay
            muted
            controls
          />
        )}
      </Dialog>
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete “${deleting?.name ?? ''}”?`}
        confirmLabel="Delete asset"
        busy={busy === deleting?.id}
        error={deleting ? error : undefined}
        onConfirm={() => void remove()}
        onClose={() => {
          setDeleting(undefined);
          setError(undefined);
        }}
      >
        Its recording and download are removed from disk. Clips cut from it keep their own media.
      </ConfirmDialog>
    </div>
  );
}
