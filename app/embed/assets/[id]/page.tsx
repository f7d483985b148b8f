import type { Metadata } from 'next';
import { Suspense } from 'react';
import { EmbedView } from '../../../../components/watch/embed-view.tsx';

export const metadata: Metadata = { title: 'Recording', robots: { index: false } };

export default async function EmbedRecordingPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <div className="h-screen w-screen overflow-hidden bg-black">
      <Suspense>
        <EmbedView channelId="" media={{ kind: 'asset', id }} />
      </Suspense>
    </div>
  );
}
