/** Prometheus figures of the running channels: ingest, encoder, output, inputs and WebRTC viewers. */
import type { ChannelLiveStats } from '../../lib/stats.ts';
import type { Sample } from './metrics.ts';

export interface ChannelFigures {
  id: string;
  /** A publisher is on air. */
  live: boolean;
  stats: ChannelLiveStats;
  /** Bytes on disk for the live window and running programs. */
  bytes: number;
}

export function channelMetrics(engine: string, channels: readonly ChannelFigures[]): Sample[] {
  const ingest: Sample['values'] = [];
  const speed: Sample['values'] = [];
  const segments: Sample['values'] = [];
  const bytes: Sample['values'] = [];
  const inputs: Sample['values'] = [];
  const switches: Sample['values'] = [];
  const slate: Sample['values'] = [];
  const viewers: Sample['values'] = [];
  const viewerPackets: Sample['values'] = [];
  const viewerDrops: Sample['values'] = [];
  let live = 0;
  for (const { id, live: isLive, stats: s, bytes: onDisk } of channels) {
    if (isLive) live++;
    if (s.inputs?.active) inputs.push({ labels: { channel: id, input: s.inputs.active }, value: 1 });
    switches.push({ labels: { channel: id }, value: s.inputs?.switches ?? 0 });
    slate.push({ labels: { channel: id }, value: s.inputs?.slateSeconds ?? 0 });
    ingest.push({ labels: { channel: id }, value: (s.ingest?.kbps ?? 0) * 1000 });
    speed.push({ labels: { channel: id }, value: s.encoder?.speed ?? 0 });
    segments.push({ labels: { channel: id }, value: s.output?.segments ?? 0 });
    bytes.push({ labels: { channel: id }, value: onDisk });
    viewers.push({ labels: { channel: id }, value: s.viewers?.count ?? 0 });
    viewerPackets.push({ labels: { channel: id }, value: s.viewers?.packetsSent ?? 0 });
    viewerDrops.push({ labels: { channel: id }, value: s.viewers?.packetsDropped ?? 0 });
  }
  return [
    {
      name: 'onair_sfu_engine_info',
      help: 'The SFU engine that runs (value 1).',
      type: 'gauge',
      values: [{ labels: { engine }, value: 1 }],
    },
    {
      name: 'onair_ingest_bitrate_bits',
      help: 'Bitrate received from the publisher, bits/s.',
      type: 'gauge',
      values: ingest,
    },
    {
      name: 'onair_encoder_speed',
      help: "FFmpeg's speed (1.0 = real time).",
      type: 'gauge',
      values: speed,
    },
    {
      name: 'onair_segments_written_total',
      help: 'Segments written by the encoder since the channel started.',
      type: 'counter',
      values: segments,
    },
    {
      name: 'onair_output_bytes',
      help: 'Bytes on disk for the live window and running programs.',
      type: 'gauge',
      values: bytes,
    },
    {
      name: 'onair_input_active',
      help: 'The input on air (primary, backup or slate), 1 per running channel that has one.',
      type: 'gauge',
      values: inputs,
    },
    {
      name: 'onair_input_switches_total',
      help: 'Times the output switched inputs (failovers, failbacks, slate).',
      type: 'counter',
      values: switches,
    },
    {
      name: 'onair_slate_seconds_total',
      help: 'Seconds the output showed the slate.',
      type: 'counter',
      values: slate,
    },
    {
      name: 'onair_whep_viewers',
      help: 'WebRTC (WHEP) viewer sessions now.',
      type: 'gauge',
      values: viewers,
    },
    {
      name: 'onair_whep_packets_sent_total',
      help: 'RTP packets forwarded to WebRTC viewers since the channel started.',
      type: 'counter',
      values: viewerPackets,
    },
    {
      name: 'onair_whep_packets_dropped_total',
      help: 'RTP packets not forwarded because a viewer could not take them.',
      type: 'counter',
      values: viewerDrops,
    },
    {
      name: 'onair_publishers_live',
      help: 'Channels with a connected publisher.',
      type: 'gauge',
      values: [{ value: live }],
    },
  ];
}
