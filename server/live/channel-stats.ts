/**
 * A running channel's live figures (GET /api/v1/channels/:id/stats), read from what the hub wires
 * together: the inputs and their meters, the failover switcher, the encoder, the output and the
 * viewers. Pure reading: nothing here changes the channel.
 */
import type { ChannelMode, IngestRole } from '../../lib/schemas.ts';
import type { ChannelLiveStats, InputHealth, ViewersStats } from '../../lib/stats.ts';
import type { MediaSource } from '../media/source.ts';
import type { LiveOutput } from '../packager/live-output.ts';
import type { InputName, SwitchEvent } from '../source/failover-source.ts';
import type { Encoder } from '../transcode/supervisor.ts';
import type { IngestMeter } from './ingest-meter.ts';

export interface ChannelStatsView {
  mode: ChannelMode;
  live: boolean;
  /** The input on air. */
  active: InputName | undefined;
  switcher: {
    readonly lastSwitch: SwitchEvent | undefined;
    readonly switches: number;
    readonly slateMs: number;
  };
  input(role: IngestRole): MediaSource | undefined;
  healthy(role: IngestRole): boolean;
  meters: Record<IngestRole, IngestMeter>;
  encoder: Encoder;
  output: LiveOutput;
  viewers: ViewersStats;
}

const iso = (ms: number | undefined) => (ms !== undefined ? new Date(ms).toISOString() : null);

function ingestStats(source: MediaSource, kbps: number): NonNullable<ChannelLiveStats['ingest']> {
  const s = source.stats();
  const video = source.tracks.find((t) => t.kind === 'video');
  const audio = source.tracks.find((t) => t.kind === 'audio');
  return {
    source: source.kind,
    engine: source.engine,
    state: source.state,
    videoCodec: video?.codec.name ?? '',
    audioCodec: audio?.codec.name ?? null,
    width: s.width ?? null,
    height: s.height ?? null,
    fps: s.fps ?? null,
    kbps,
    packetsLost: s.transport?.packetsLost ?? s.tracks.reduce((n, t) => n + t.packetsLost, 0),
    packetsReceived: s.tracks.reduce((n, t) => n + t.packets, 0),
    packetsRetransmitted: s.transport?.packetsRetransmitted ?? null,
    rttMs: s.transport?.rttMs ?? null,
    keyframeIntervalMs: s.gopMs ?? null,
    renditions: (s.renditions ?? []).map(({ name, width, height, fps }) => ({ name, width, height, fps })),
    warnings: s.warnings ?? [],
    connectedSince: source.liveSince ? iso(source.liveSince) : null,
  };
}

function inputHealth(v: ChannelStatsView, r: IngestRole): InputHealth | null {
  const src = v.input(r);
  if (!src) return null;
  const st = src.stats();
  return {
    source: src.kind,
    state: src.state,
    healthy: v.healthy(r),
    onAir: v.active === r,
    videoCodec: src.tracks.find((t) => t.kind === 'video')?.codec.name ?? '',
    width: st.width ?? null,
    height: st.height ?? null,
    fps: st.fps ?? null,
    kbps: v.meters[r].last?.kbps ?? 0,
    packetsLost: st.transport?.packetsLost ?? st.tracks.reduce((n, t) => n + t.packetsLost, 0),
    connectedSince: src.liveSince ? iso(src.liveSince) : null,
  };
}

export function channelStats(v: ChannelStatsView): ChannelLiveStats {
  const { active, encoder, output } = v;
  // The input the figures describe: the one on air, else whichever is connected.
  const role: IngestRole | undefined =
    active === 'primary' || active === 'backup'
      ? active
      : v.input('primary')
        ? 'primary'
        : v.input('backup')
          ? 'backup'
          : undefined;
  const source = role ? v.input(role) : undefined;
  const switched = v.switcher.lastSwitch;
  return {
    live: v.live,
    ingest: source && role ? ingestStats(source, v.meters[role].last?.kbps ?? 0) : null,
    inputs: {
      active: active ?? null,
      primary: inputHealth(v, 'primary'),
      backup: inputHealth(v, 'backup'),
      switches: v.switcher.switches,
      slateSeconds: Math.round(v.switcher.slateMs / 100) / 10,
      lastSwitch: switched
        ? {
            from: switched.from,
            to: switched.to,
            reason: switched.reason,
            at: new Date(switched.at).toISOString(),
            gapMs: switched.gapMs,
          }
        : null,
    },
    encoder: {
      running: encoder.running,
      mode: v.mode,
      speed: encoder.progress?.speed ?? null,
      fps: encoder.progress?.fps ?? null,
      renditions: encoder.tracks.filter((t) => t.kind === 'video').map((t) => t.id),
      restarts: encoder.restarts,
    },
    output: {
      segments: output.segmentsWritten,
      lastSegmentAt: iso(output.timeline.lastSegmentAt()),
      tracks: output.timeline.latestTracks(),
    },
    viewers: v.viewers,
    history: (role ? v.meters[role] : v.meters.primary).history(),
  };
}
