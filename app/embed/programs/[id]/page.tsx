import type { Metadata } from 'next';
import { embedRoute } from '../../../../components/watch/watch-routes.tsx';

export const metadata: Metadata = { title: 'Program', robots: { index: false } };

export default embedRoute('program');
