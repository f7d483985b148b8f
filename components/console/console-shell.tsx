import Link from 'next/link';
import type { ReactNode } from 'react';
import { buttonClasses } from '../ui/button.tsx';
import { Brand } from './brand.tsx';
import { SignOutButton } from './sign-out-button.tsx';

/** The signed-in console frame: a header with the app name and sign-out, then the page. */
export function ConsoleShell({ children }: { children: ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-20 border-b border-zinc-800 bg-zinc-950/85 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4">
          <div className="flex min-w-0 items-center gap-2 sm:gap-4">
            <Brand />
            <nav aria-label="Console" className="flex gap-1">
              <Link href="/console" className={buttonClasses('ghost', 'sm')}>
                Channels
              </Link>
              <Link href="/console/webhooks" className={buttonClasses('ghost', 'sm')}>
                Webhooks
              </Link>
            </nav>
          </div>
          <SignOutButton />
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
    </div>
  );
}
