/** Live figures of a channel, as GET /api/v1/channels/:id/stats returns them. */
import type { ChannelMode, ChannelState } from './schemas.ts';

export interface IngestSample {
  /** Epoch ms. */
  at: number;
  kbps: number;
  fps?: number;
}

export interface IngestStats {
  /** What feeds the channel: 'webrtc' (WHIP), 'rtmp', 'srt', later 'failover'. */
  source: string;
  /** The SFU engine or protocol stack: 'werift', 'ffmpeg' (RTMP, SRT), … */
  engine: string;
  state: 'connecting' | 'live' | 'ended';
  videoCodec: string;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  kbps: number;
  packetsLost: number;
  packetsReceived: number;
  /** SRT: packets the sender had to send again (null for protocols that do not resend). */
  packetsRetransmitted: number | null;
  /** SRT: round-trip time (ms). */
  rttMs: number | null;
  /** The encoder's keyframe interval (ms), where the protocol shows it (RTMP). */
  keyframeIntervalMs: number | null;
  /** A multi-bitrate publisher's renditions. */
  renditions: IngestRendition[];
  /** Problems the publisher should fix (misaligned keyframes across renditions). */
  warnings: string[];
  connectedSince: string | null;
}

export interface IngestRendition {
  name: string;
  width: number | null;
  height: number | null;
  fps: number | null;
}

/** One of a channel's two ingest points. */
export interface InputHealth {
  source: string;
  state: 'connecting' | 'live' | 'ended';
  /** Live, sending media, ready to go on air. */
  healthy: boolean;
  onAir: boolean;
  videoCodec: string;
  width: number | null;
  height: number | null;
  fps: number | null;
  kbps: number;
  packetsLost: number;
  connectedSince: string | null;
}

/** Redundant ingest: which input is on air, both inputs' health, how often the output switched. */
export interface InputsStats {
  active: 'primary' | 'backup' | 'slate' | null;
  primary: InputHealth | null;
  backup: InputHealth | null;
  switches: number;
  /** Seconds the output has shown the slate since the channel started. */
  slateSeconds: number;
  lastSwitch: InputSwitch | null;
}

/** One switch of the output between inputs (or to and from the slate). */
export interface InputSwitch {
  from: 'primary' | 'backup' | 'slate';
  to: 'primary' | 'backup' | 'slate';
  reason: string;
  at: string;
  /** From the last video packet on air to the new input's first frame in the output. */
  gapMs: number | null;
}

export interface EncoderStats {
  running: boolean;
  mode: ChannelMode;
  speed: number | null;
  fps: number | null;
  renditions: string[];
  restarts: number;
}

export interface OutputTrack {
  id: string;
  kind: 'video' | 'audio';
  /** RFC 6381 codec string, e.g. avc1.64001f. */
  codec: string;
  /** bits/s, declared (ladder) or measured (passthrough). */
  bandwidth: number;
  width?: number;
  height?: number;
  frameRate?: number;
  sampleRate?: number;
  channels?: number;
}

export interface OutputStats {
  segments: number;
  lastSegmentAt: string | null;
  tracks: OutputTrack[];
}

/** WebRTC viewers (WHEP) of a channel: the sessions now, and what they were sent. */
export interface ViewersStats {
  /** Sessions now (connecting or connected). */
  count: number;
  connected: number;
  /** At most this many at once (ONAIR_WHEP_MAX_VIEWERS). */
  limit: number;
  /** Sessions since the channel started. */
  sessions: number;
  /** Over every session since the channel started: */
  packetsSent: number;
  packetsDropped: number;
  packetsNacked: number;
  keyframeRequests: number;
}

/** What the media runtime knows of a channel. */
export interface ChannelLiveStats {
  live: boolean;
  ingest: IngestStats | null;
  inputs: InputsStats | null;
  encoder: EncoderStats | null;
  output: OutputStats | null;
  viewers: ViewersStats | null;
  /** One sample a second, the last two minutes. */
  history: IngestSample[];
}

export interface ChannelStats extends ChannelLiveStats {
  channelId: string;
  state: ChannelState;
}

export const OFFLINE_STATS: ChannelLiveStats = Object.freeze({
  live: false,
  ingest: null,
  inputs: null,
  encoder: null,
  output: null,
  viewers: null,
  history: [],
});
