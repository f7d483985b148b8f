import Link from 'next/link';
import type { ReactNode } from 'react';
import { Brand } from './brand.tsx';
import { SignOutButton } from './sign-out-button.tsx';

export type ConsoleSection = 'channels' | 'assets' | 'webhooks';

/** The signed-in console frame: a header with the app name, sections and sign-out, then the page. */
export function ConsoleShell({
  children,
  section = 'channels',
}: {
  children: ReactNode;
  section?: ConsoleSection;
}) {
  const tab = (href: string, label: string, me: ConsoleSection) => (
    <Link
      href={href}
      aria-current={section === me ? 'page' : undefined}
      className={`rounded px-2 py-1.5 text-sm font-medium sm:px-2.5 ${section === me ? 'bg-zinc-800 text-zinc-100' : 'text-zinc-400 hover:text-zinc-100'}`}
    >
      {label}
    </Link>
  );
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-20 border-b border-zinc-800 bg-zinc-950/85 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4">
          <div className="flex min-w-0 items-center gap-2 sm:gap-4">
            <Brand compact />
            <nav aria-label="Console" className="flex items-center gap-0.5 sm:gap-1">
              {tab('/console', 'Channels', 'channels')}
              {tab('/console/assets', 'Assets', 'assets')}
              {tab('/console/webhooks', 'Webhooks', 'webhooks')}
            </nav>
          </div>
          <SignOutButton />
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
    </div>
  );
}
