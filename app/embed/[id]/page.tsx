import type { Metadata } from 'next';
import { embedRoute } from '../../../components/watch/watch-routes.tsx';

export const metadata: Metadata = { title: 'Player', robots: { index: false } };

export default embedRoute();
