import { Suspense } from 'react';
import type { PlayerMedia } from '../player/live-player.tsx';
import { EmbedView } from './embed-view.tsx';
import { MediaWatchView } from './media-watch-view.tsx';
import { WatchView } from './watch-view.tsx';

/** What Next.js hands a page under a `[id]` segment. */
export interface IdRouteProps {
  params: Promise<{ id: string }>;
}

/**
 * The page of `/watch/…/[id]`: a channel's live watch page, or, with `kind`, a program's
 * (DVR or VOD) or an asset's.
 */
export function watchRoute(kind?: PlayerMedia['kind']) {
  return async function WatchRoute({ params }: IdRouteProps) {
    const { id } = await params;
    return (
      <Suspense>{kind ? <MediaWatchView media={{ kind, id }} /> : <WatchView channelId={id} />}</Suspense>
    );
  };
}

/** The page of `/embed/…/[id]`: the chromeless player of a channel, or, with `kind`, of a program or an asset. */
export function embedRoute(kind?: PlayerMedia['kind']) {
  return async function EmbedRoute({ params }: IdRouteProps) {
    const { id } = await params;
    return (
      <div className="h-screen w-screen overflow-hidden bg-black">
        <Suspense>
          {kind ? <EmbedView channelId="" media={{ kind, id }} /> : <EmbedView channelId={id} />}
        </Suspense>
      </div>
    );
  };
}
