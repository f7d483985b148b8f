'use client';
import { useId, useState } from 'react';
import { Button } from './button.tsx';
import { CopyButton } from './copy-button.tsx';
import { cx } from './cx.ts';

/** A read-only value with a copy button; `secret` hides it until revealed. */
export function CopyField({
  label,
  value,
  secret = false,
  multiline = false,
  className,
}: {
  label: string;
  value: string;
  secret?: boolean;
  multiline?: boolean;
  className?: string;
}) {
  const id = useId();
  const [revealed, setRevealed] = useState(false);
  const hidden = secret && !revealed;
  const box =
    'w-full min-w-0 rounded-md border border-zinc-800 bg-zinc-950 px-3 font-mono text-xs text-zinc-200 focus:border-sky-500 focus:outline-none';
  return (
    <div className={cx('flex min-w-0 flex-col gap-1', className)}>
      <label htmlFor={id} className="text-xs font-medium text-zinc-400">
        {label}
      </label>
      <div
        className={cx(
          'flex min-w-0 gap-2',
          multiline ? 'flex-col sm:flex-row sm:items-start' : 'items-center',
        )}
      >
        {multiline ? (
          <textarea
            id={id}
            readOnly
            value={value}
            rows={4}
            className={cx(box, 'resize-none py-2 leading-relaxed break-all')}
            onFocus={(e) => e.currentTarget.select()}
          />
        ) : (
          <input
            id={id}
            readOnly
            type={hidden ? 'password' : 'text'}
            value={value}
            className={cx(box, 'h-8')}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
        <div className="flex shrink-0 gap-2">
          {secret && (
            <Button
              size="sm"
              variant="ghost"
              aria-pressed={revealed}
              aria-label={`${revealed ? 'Hide' : 'Reveal'} ${label}`}
              onClick={() => setRevealed((r) => !r)}
            >
              {revealed ? 'Hide' : 'Reveal'}
            </Button>
          )}
          <CopyButton text={value} label={`Copy ${label}`} />
        </div>
      </div>
    </div>
  );
}
