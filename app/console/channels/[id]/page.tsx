import type { Metadata } from 'next';
import { ChannelPage } from '../../../../components/console/channel-page.tsx';
import { ConsoleShell } from '../../../../components/console/console-shell.tsx';

export const metadata: Metadata = { title: 'Channel' };

export default async function ChannelRoute({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <ConsoleShell>
      <ChannelPage channelId={id} />
    </ConsoleShell>
  );
}
