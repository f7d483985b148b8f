import type { ReactNode } from 'react';
import { cx } from './cx.ts';

export type BadgeTone = 'neutral' | 'amber' | 'emerald' | 'red' | 'sky';

const TONES: Record<BadgeTone, string> = {
  neutral: 'border-zinc-700 bg-zinc-800/60 text-zinc-300',
  amber: 'border-amber-800 bg-amber-950/60 text-amber-300',
  emerald: 'border-emerald-800 bg-emerald-950/60 text-emerald-300',
  red: 'border-red-800 bg-red-950/60 text-red-300',
  sky: 'border-sky-800 bg-sky-950/60 text-sky-300',
};

export function Badge({
  tone = 'neutral',
  pulse = false,
  children,
  className,
}: {
  tone?: BadgeTone;
  pulse?: boolean;
  children: ReactNode;
  className?: string;
}) {
  return (
    <span
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap',
        TONES[tone],
        className,
      )}
    >
      {pulse && <span aria-hidden className="h-1.5 w-1.5 animate-pulse rounded-full bg-current" />}
      {children}
    </span>
  );
}

/** The red "LIVE" pill shown while a publisher is connected. */
export function LiveBadge({ className }: { className?: string }) {
  return (
    <span
      className={cx(
        'inline-flex items-center gap-1.5 rounded bg-red-600 px-1.5 py-0.5 text-[11px] font-bold tracking-wider text-white',
        className,
      )}
    >
      <span aria-hidden className="h-1.5 w-1.5 animate-pulse rounded-full bg-white" />
      LIVE
    </span>
  );
}
