import type { Metadata } from 'next';
import { Suspense } from 'react';
import { EmbedView } from '../../../../components/watch/embed-view.tsx';

export const metadata: Metadata = { title: 'Program', robots: { index: false } };

export default async function EmbedProgramPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <div className="h-screen w-screen overflow-hidden bg-black">
      <Suspense>
        <EmbedView channelId="" media={{ kind: 'program', id }} />
      </Suspense>
    </div>
  );
}
