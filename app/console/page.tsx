import type { Metadata } from 'next';
import { ConsoleShell } from '../../components/console/console-shell.tsx';
import { Dashboard } from '../../components/console/dashboard.tsx';

export const metadata: Metadata = { title: 'Channels' };

export default function ConsolePage() {
  return (
    <ConsoleShell>
      <Dashboard />
    </ConsoleShell>
  );
}
