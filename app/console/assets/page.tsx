import type { Metadata } from 'next';
import { AssetsPage } from '../../../components/console/assets-page.tsx';
import { consoleRoute } from '../../../components/console/console-route.tsx';

export const metadata: Metadata = { title: 'Assets' };

export default consoleRoute(AssetsPage, 'assets');
