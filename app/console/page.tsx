import type { Metadata } from 'next';
import { ConsoleHome } from '../../components/console/console-home.tsx';

export const metadata: Metadata = { title: 'Console' };

export default function ConsolePage() {
  return <ConsoleHome />;
}
