import type { ReactNode } from 'react';
import { Brand } from './brand.tsx';
import { SignOutButton } from './sign-out-button.tsx';

/** The signed-in console frame: a header with the app name and sign-out, then the page. */
export function ConsoleShell({ children }: { children: ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-20 border-b border-zinc-800 bg-zinc-950/85 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4">
          <Brand />
          <SignOutButton />
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6 sm:py-8">{children}</main>
    </div>
  );
}
