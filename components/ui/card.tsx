import type { ReactNode } from 'react';
import { cx } from './cx.ts';

/** A titled panel; the heading names the region for assistive technology. */
export function Panel({
  id,
  title,
  description,
  actions,
  children,
  className,
}: {
  id: string;
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const headingId = `${id}-title`;
  return (
    <section
      aria-labelledby={headingId}
      className={cx('min-w-0 rounded-lg border border-zinc-800 bg-zinc-900/60', className)}
    >
      <header className="flex flex-wrap items-start justify-between gap-2 border-b border-zinc-800 px-4 py-3">
        <div className="min-w-0">
          <h2 id={headingId} className="text-sm font-semibold text-zinc-100">
            {title}
          </h2>
          {description && <p className="mt-0.5 text-xs text-zinc-400">{description}</p>}
        </div>
        {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
      </header>
      <div className="p-4">{children}</div>
    </section>
  );
}
