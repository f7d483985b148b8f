/**
 * One input of the failover switcher (the primary, the backup or the slate):
 * its source, its health, and — while it is on standby — the packets it sent
 * since its last keyframe, so a switch to it needs no wait.
 */
import { isKeyframeStart, readRtpHeader, spsFromH264Payload } from '../media/rtp.ts';
import type { MediaKind, MediaSource, SourceTrack } from '../media/source.ts';
import type { InputName } from './failover-types.ts';

const MAX_CACHE_BYTES = 8 * 1024 * 1024;
const MAX_CACHE_MS = 6000;

export interface Cached {
  kind: MediaKind;
  packet: Buffer;
  arrival: number;
}

export interface Input {
  name: InputName;
  source: MediaSource;
  video: SourceTrack | undefined;
  audio: SourceTrack | undefined;
  unsubscribe: (() => void)[];
  lastVideoAt: number | undefined;
  /** Packets since this input's last keyframe (standby inputs only). */
  cache: Cached[];
  cacheBytes: number;
  sps: string | undefined;
  healthySince: number | undefined;
  lastKeyframeAskAt: number;
}

export function newInput(name: InputName, source: MediaSource): Input {
  return {
    name,
    source,
    video: undefined,
    audio: undefined,
    unsubscribe: [],
    lastVideoAt: undefined,
    cache: [],
    cacheBytes: 0,
    sps: undefined,
    healthySince: undefined,
    lastKeyframeAskAt: 0,
  };
}

/**
 * A video packet of `input` arrived: notes when, and whether it starts a
 * keyframe. Returns that, and the H.264 SPS (hex) it carries, if any (also kept
 * as the input's).
 */
export function noteVideo(
  input: Input,
  packet: Buffer,
  arrival: number,
): { keyframe: boolean; sps: string | undefined } {
  input.lastVideoAt = arrival;
  const h = readRtpHeader(packet);
  const payload = h ? packet.subarray(h.payloadOffset) : undefined;
  const codec = input.video?.codec.name ?? '';
  const keyframe = payload !== undefined && isKeyframeStart(codec, payload);
  if (!keyframe || !payload || codec !== 'H264') return { keyframe, sps: undefined };
  const sps = spsFromH264Payload(payload)[0];
  if (sps) input.sps = Buffer.from(sps).toString('hex');
  return { keyframe, sps: sps ? input.sps : undefined };
}

/** A standby input: keep what it sent since its last keyframe (not too much, not too old). */
export function keep(
  input: Input,
  kind: MediaKind,
  packet: Buffer,
  arrival: number,
  keyframe: boolean,
): void {
  if (keyframe) dropKept(input);
  if (!keyframe && input.cache.length === 0) return;
  input.cache.push({ kind, packet: Buffer.from(packet), arrival });
  input.cacheBytes += packet.length;
  const first = input.cache[0]!;
  if (input.cacheBytes > MAX_CACHE_BYTES || arrival - first.arrival > MAX_CACHE_MS) dropKept(input);
}

/** The kept packets, handed over once: the input goes on air. */
export function takeKept(input: Input): Cached[] {
  const cache = input.cache;
  dropKept(input);
  return cache;
}

function dropKept(input: Input): void {
  input.cache = [];
  input.cacheBytes = 0;
}
