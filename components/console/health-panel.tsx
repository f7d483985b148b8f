import type { ChannelEvent, ChannelStats } from '../../lib/api-client.ts';
import type { ChannelState } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Panel } from '../ui/card.tsx';
import { cx } from '../ui/cx.ts';
import { formatKbps, formatTime } from './format.ts';
import { Sparkline } from './sparkline.tsx';

const WINDOW_MS = 2 * 60_000;

function eventTone(type: string): string {
  if (/fail|error|lost|crash|restart/.test(type)) return 'bg-red-500';
  if (/start|connect|publish/.test(type)) return 'bg-emerald-500';
  return 'bg-zinc-500';
}

export function HealthPanel({
  stats,
  events,
  channelState,
}: {
  stats: ChannelStats | undefined;
  events: ChannelEvent[];
  channelState: ChannelState;
  now: number;
}) {
  const history = stats?.history ?? [];
  const kbps = history.map((s) => ({ at: s.at, value: s.kbps }));
  const fps = history.filter((s) => typeof s.fps === 'number').map((s) => ({ at: s.at, value: s.fps ?? 0 }));
  const ingest = stats?.ingest;
  const encoder = stats?.encoder;
  const viewers = stats?.viewers;

  return (
    <Panel
      id="health"
      title="Health"
      description="Ingest over the last two minutes, and what happened on the channel."
    >
      <div className="flex flex-col gap-5">
        {channelState === 'stopped' && history.length === 0 ? (
          <p className="text-sm text-zinc-500">No live figures while the channel is stopped.</p>
        ) : (
          <>
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
              <Sparkline
                label="Ingest bitrate"
                unit="kbps"
                samples={kbps}
                windowMs={WINDOW_MS}
                color="#f87171"
                format={formatKbps}
              />
              <Sparkline
                label="Ingest frame rate"
                unit="fps"
                samples={fps}
                windowMs={WINDOW_MS}
                color="#34d399"
                format={(v) => `${v.toFixed(v < 10 ? 1 : 0)} fps`}
              />
            </div>
            {ingest?.warnings.map((w) => (
              <Alert key={w} tone="warning">
                {w}
              </Alert>
            ))}
            {ingest && ingest.renditions.length > 0 && (
              <p className="text-xs text-zinc-400">
                Renditions received:{' '}
                {ingest.renditions
                  .map((r) => `${r.name}${r.width && r.height ? ` (${r.width}×${r.height})` : ''}`)
                  .join(', ')}
              </p>
            )}
            <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-xs sm:grid-cols-4">
              <Stat
                label="Video"
                value={
                  ingest
                    ? `${ingest.videoCodec}${ingest.width && ingest.height ? ` ${ingest.width}×${ingest.height}` : ''}`
                    : '—'
                }
              />
              <Stat label="Audio" value={ingest?.audioCodec ?? '—'} />
              <Stat
                label="Source"
                value={
                  ingest ? `${sourceName(ingest.source)}${ingest.fps ? `, ${ingest.fps} fps` : ''}` : '—'
                }
              />
              <Stat
                label="Packets lost"
                value={
                  ingest
                    ? `${ingest.packetsLost}${ingest.packetsRetransmitted !== null ? ` (${ingest.packetsRetransmitted} resent)` : ''}`
                    : '—'
                }
              />
              <Stat
                label="Keyframe interval"
                value={
                  ingest?.keyframeIntervalMs ? `${(ingest.keyframeIntervalMs / 1000).toFixed(1)} s` : '—'
                }
              />
              <Stat label="Segments" value={stats?.output ? String(stats.output.segments) : '—'} />
              <Stat
                label="Encoder"
                value={
                  encoder
                    ? encoder.running
                      ? `${encoder.mode}${encoder.speed ? `, ${encoder.speed.toFixed(2)}×` : ''}`
                      : 'idle'
                    : '—'
                }
              />
              <Stat
                label="Renditions"
                value={encoder?.renditions.length ? encoder.renditions.join(' ') : '—'}
              />
              <Stat label="Encoder restarts" value={encoder ? String(encoder.restarts) : '—'} />
              <Stat
                label="Connected since"
                value={ingest?.connectedSince ? formatTime(ingest.connectedSince) : '—'}
              />
              <Stat
                label="Real-time viewers"
                value={viewers ? `${viewers.count} of ${viewers.limit}` : '—'}
                testId="realtime-viewers"
              />
            </dl>
          </>
        )}
        <div>
          <h3 className="mb-2 text-xs font-medium tracking-wide text-zinc-400 uppercase">Events</h3>
          {events.length === 0 ? (
            <p className="text-sm text-zinc-500">No events yet.</p>
          ) : (
            <ol
              className="max-h-64 overflow-y-auto rounded-md border border-zinc-800 bg-zinc-950/50 text-xs"
              aria-label="Channel events"
              tabIndex={0}
            >
              {events.map((e) => (
                <li
                  key={e.id}
                  className="flex items-start gap-3 border-b border-zinc-800/70 px-3 py-2 last:border-0"
                >
                  <span
                    aria-hidden
                    className={cx('mt-1 h-1.5 w-1.5 shrink-0 rounded-full', eventTone(e.type))}
                  />
                  <time dateTime={e.at} className="shrink-0 font-mono text-zinc-500 tabular-nums">
                    {formatTime(e.at)}
                  </time>
                  <span className="min-w-0 text-zinc-300">{e.message}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </Panel>
  );
}

function sourceName(source: string): string {
  return source === 'webrtc' ? 'WHIP' : source.toUpperCase();
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="min-w-0" data-testid={testId}>
      <dt className="text-zinc-500">{label}</dt>
      <dd className="truncate text-zinc-200" title={value}>
        {value}
      </dd>
    </div>
  );
}
