import type { Metadata } from 'next';
import { ConsoleShell } from '../../../components/console/console-shell.tsx';
import { WebhooksPage } from '../../../components/console/webhooks-page.tsx';

export const metadata: Metadata = { title: 'Webhooks' };

export default function WebhooksRoute() {
  return (
    <ConsoleShell section="webhooks">
      <WebhooksPage />
    </ConsoleShell>
  );
}
