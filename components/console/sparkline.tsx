import { chartPoints, niceMax } from './format.ts';

const W = 300;
const H = 64;

/** A small line chart of the last `windowMs`, with its latest value; no chart library. */
export function Sparkline({
  label,
  unit,
  samples,
  windowMs,
  color,
  format,
}: {
  label: string;
  unit: string;
  samples: readonly { at: number; value: number }[];
  windowMs: number;
  color: string;
  format: (v: number) => string;
}) {
  const last = samples[samples.length - 1];
  const now = last?.at ?? 0;
  const max = niceMax(samples.map((s) => s.value));
  const points = chartPoints(samples, { now, windowMs, width: W, height: H, max });
  const minutes = Math.round(windowMs / 60_000);
  const summary = last
    ? `${label} over the last ${minutes} minutes; now ${format(last.value)}, scale up to ${format(max)}.`
    : `${label}: no data yet.`;
  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 flex items-baseline justify-between gap-2 text-xs">
        <span className="text-zinc-400">{label}</span>
        <span className="font-mono text-sm text-zinc-100 tabular-nums">
          {last ? format(last.value) : '—'}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
        className="h-16 w-full rounded border border-zinc-800 bg-zinc-950"
      >
        {[0.25, 0.5, 0.75].map((f) => (
          <line
            key={f}
            x1={0}
            x2={W}
            y1={H * f}
            y2={H * f}
            stroke="currentColor"
            className="text-zinc-800"
            strokeWidth={1}
            vectorEffect="non-scaling-stroke"
          />
        ))}
        {points && (
          <>
            <polygon
              points={`${points.split(' ')[0]?.split(',')[0] ?? 0},${H} ${points} ${points.split(' ').at(-1)?.split(',')[0] ?? W},${H}`}
              fill={color}
              opacity={0.12}
            />
            <polyline
              points={points}
              fill="none"
              stroke={color}
              strokeWidth={1.5}
              vectorEffect="non-scaling-stroke"
              strokeLinejoin="round"
            />
          </>
        )}
      </svg>
      <div className="mt-0.5 flex justify-between text-[10px] text-zinc-600">
        <span>−{minutes} min</span>
        <span>
          max {format(max)} {unit && <span className="sr-only">{unit}</span>}
        </span>
        <span>now</span>
      </div>
    </figure>
  );
}
