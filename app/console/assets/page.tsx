import type { Metadata } from 'next';
import { AssetsPage } from '../../../components/console/assets-page.tsx';
import { ConsoleShell } from '../../../components/console/console-shell.tsx';

export const metadata: Metadata = { title: 'Assets' };

export default function AssetsRoute() {
  return (
    <ConsoleShell section="assets">
      <AssetsPage />
    </ConsoleShell>
  );
}
