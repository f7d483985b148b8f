import type { Metadata } from 'next';
import { WebhooksPage } from '../../../components/console/webhooks-page.tsx';
import { consoleRoute } from '../../../components/console/console-route.tsx';

export const metadata: Metadata = { title: 'Webhooks' };

export default consoleRoute(WebhooksPage, 'webhooks');
