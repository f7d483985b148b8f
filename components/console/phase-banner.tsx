import { Spinner } from '../ui/spinner.tsx';
import { cx } from '../ui/cx.ts';
import { PHASE_TEXT, type ChannelPhase } from './channel-actions.ts';

const STEPS: readonly { key: string; label: string; done: (p: ChannelPhase) => boolean }[] = [
  {
    key: 'start',
    label: 'Channel running',
    done: (p) => p === 'waiting-publisher' || p === 'waiting-segment' || p === 'on-air',
  },
  { key: 'publisher', label: 'Publisher connected', done: (p) => p === 'waiting-segment' || p === 'on-air' },
  { key: 'segment', label: 'First segment', done: (p) => p === 'on-air' },
];

/** Where the channel is on its way to air, with a spinner while a step is in progress. */
export function PhaseBanner({ phase }: { phase: ChannelPhase }) {
  const working = phase === 'starting' || phase === 'stopping' || phase === 'waiting-segment';
  return (
    <div
      role="status"
      aria-live="polite"
      data-phase={phase}
      className={cx(
        'flex flex-col gap-3 rounded-lg border px-4 py-3 sm:flex-row sm:items-center sm:justify-between',
        phase === 'on-air'
          ? 'border-red-900/70 bg-red-950/30'
          : phase === 'stopped'
            ? 'border-zinc-800 bg-zinc-900/60'
            : 'border-zinc-700 bg-zinc-900',
      )}
    >
      <p className="flex items-center gap-2 text-sm">
        {working && <Spinner className="h-3.5 w-3.5 text-zinc-400" />}
        {phase === 'on-air' && <span aria-hidden className="h-2 w-2 animate-pulse rounded-full bg-red-500" />}
        <span>{PHASE_TEXT[phase]}</span>
      </p>
      {phase !== 'stopped' && phase !== 'stopping' && (
        <ol className="flex flex-wrap gap-x-4 gap-y-1 text-xs" aria-label="Progress">
          {STEPS.map((s) => {
            const done = s.done(phase);
            return (
              <li
                key={s.key}
                className={cx('flex items-center gap-1.5', done ? 'text-emerald-300' : 'text-zinc-500')}
              >
                <span aria-hidden>{done ? '✓' : '○'}</span>
                {s.label}
                <span className="sr-only">{done ? ' (done)' : ' (pending)'}</span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
