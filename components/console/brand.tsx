import Link from 'next/link';

/** The onair mark; `compact` shows only the dot on small screens (the console header needs the room). */
export function Brand({ href = '/console', compact = false }: { href?: string; compact?: boolean }) {
  return (
    <Link
      href={href}
      className="flex items-center gap-2 rounded-sm font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-sky-400"
    >
      <span aria-hidden className="relative flex h-3 w-3">
        <span className="absolute inline-flex h-full w-full animate-ping rounded-full bg-red-500 opacity-40" />
        <span className="relative inline-flex h-3 w-3 rounded-full bg-red-500" />
      </span>
      <span className={compact ? 'sr-only sm:not-sr-only' : undefined}>
        onair <span className="hidden font-normal text-zinc-400 sm:inline">console</span>
      </span>
    </Link>
  );
}
