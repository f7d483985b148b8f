import Link from 'next/link';

export function Brand({ href = '/console' }: { href?: string }) {
  return (
    <Link
      href={href}
      className="flex items-center gap-2 rounded-sm font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-sky-400"
    >
      <span aria-hidden className="relative flex h-3 w-3">
        <span className="absolute inline-flex h-full w-full animate-ping rounded-full bg-red-500 opacity-40" />
        <span className="relative inline-flex h-3 w-3 rounded-full bg-red-500" />
      </span>
      <span>
        onair <span className="hidden font-normal text-zinc-400 sm:inline">console</span>
      </span>
    </Link>
  );
}
