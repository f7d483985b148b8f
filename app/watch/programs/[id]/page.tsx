import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MediaWatchView } from '../../../../components/watch/media-watch-view.tsx';

export const metadata: Metadata = { title: 'Watch Program' };

export default async function WatchProgramPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <Suspense>
      <MediaWatchView media={{ kind: 'program', id }} />
    </Suspense>
  );
}
