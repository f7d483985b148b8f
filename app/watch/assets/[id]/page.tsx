import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MediaWatchView } from '../../../../components/watch/media-watch-view.tsx';

export const metadata: Metadata = { title: 'Watch Recording' };

export default async function WatchRecordingPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <Suspense>
      <MediaWatchView media={{ kind: 'asset', id }} />
    </Suspense>
  );
}
