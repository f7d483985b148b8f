import type { Metadata } from 'next';
import { watchRoute } from '../../../components/watch/watch-routes.tsx';

export const metadata: Metadata = { title: 'Watch' };

export default watchRoute();
