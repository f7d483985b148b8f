import type { ReactNode } from 'react';
import { cx } from './cx.ts';

export type AlertTone = 'error' | 'info' | 'success' | 'warning';

const TONES: Record<AlertTone, string> = {
  error: 'border-red-900 bg-red-950/50 text-red-200',
  info: 'border-zinc-700 bg-zinc-900 text-zinc-300',
  success: 'border-emerald-900 bg-emerald-950/50 text-emerald-200',
  warning: 'border-amber-900 bg-amber-950/40 text-amber-200',
};

/** A message box; errors are announced to screen readers as they appear. */
export function Alert({
  tone = 'info',
  children,
  className,
  action,
}: {
  tone?: AlertTone;
  children: ReactNode;
  className?: string;
  action?: ReactNode;
}) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={cx('flex items-start gap-3 rounded-md border px-3 py-2 text-sm', TONES[tone], className)}
    >
      <div className="min-w-0 flex-1">{children}</div>
      {action}
    </div>
  );
}
