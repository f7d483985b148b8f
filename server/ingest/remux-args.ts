/**
 * argv for the FFmpeg process that turns one RTMP or SRT publisher's stream into
 * RTP on loopback, so that it becomes a source like any WebRTC publisher:
 *
 *   FLV (RTMP) or MPEG-TS (SRT) on stdin ──▶ FFmpeg ──▶ H.264 RTP  → 127.0.0.1:<video port>
 *                                                  └──▶ Opus RTP   → 127.0.0.1:<audio port>
 *
 * - Video is copied (never decoded). `h264_mp4toannexb` puts SPS and PPS in front of every keyframe
 *   (FLV carries them once, out of band), so every consumer can start at any keyframe, like a
 *   WebRTC publisher's stream.
 * - Audio (AAC in RTMP, AAC or Opus in SRT) becomes Opus at 48 kHz, as WebRTC carries it: the encoder
 *   and WebRTC viewers then take every source alike. Opus encoding costs little (about 1 % of a core).
 * - The receiving ports are bound by onair before FFmpeg starts (no race, nothing lost at the start);
 *   RTCP goes to the same port (`rtcpport`), where the source drops it.
 * - `pkt_size=1200` keeps each RTP packet under any path MTU (WebRTC viewers).
 */
export interface RemuxTarget {
  port: number;
  payloadType: number;
  ssrc: number;
}

export interface RemuxArgsOptions {
  /** What arrives on stdin. */
  input: 'flv' | 'mpegts';
  video: RemuxTarget;
  audio?: RemuxTarget;
  /** Opus bitrate (kbit/s). */
  audioKbps?: number;
}

export const REMUX_VIDEO_PT = 96;
export const REMUX_AUDIO_PT = 111;
export const RTP_PACKET_SIZE = 1200;

function rtpUrl(t: RemuxTarget): string {
  return `rtp://127.0.0.1:${String(t.port)}?rtcpport=${String(t.port)}&pkt_size=${String(RTP_PACKET_SIZE)}`;
}

/** One RTP output of the remuxer: its payload type, SSRC and loopback address. */
function rtpOutput(t: RemuxTarget): string[] {
  return ['-f', 'rtp', '-payload_type', String(t.payloadType), '-ssrc', String(t.ssrc), rtpUrl(t)];
}

function check(t: RemuxTarget, what: string): void {
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)
    throw new RangeError(`${what} port out of range`);
  if (!Number.isInteger(t.payloadType) || t.payloadType < 96 || t.payloadType > 127)
    throw new RangeError(`${what} payload type must be dynamic (96–127)`);
  if (!Number.isInteger(t.ssrc) || t.ssrc < 0 || t.ssrc > 0x7fffffff)
    throw new RangeError(`${what} ssrc out of range`);
}

export function buildRemuxArgs(opts: RemuxArgsOptions): string[] {
  check(opts.video, 'video');
  if (opts.audio) check(opts.audio, 'audio');
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    // Probe only what is needed to know the codecs: both arrive with their parameters at once.
    '-probesize',
    '500000',
    '-analyzeduration',
    '500000',
    '-f',
    opts.input,
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-bsf:v',
    'h264_mp4toannexb',
    ...rtpOutput(opts.video),
  ];
  if (opts.audio) {
    args.push(
      '-map',
      '0:a:0',
      '-c:a',
      'libopus',
      '-b:a',
      `${String(opts.audioKbps ?? 128)}k`,
      '-ar',
      '48000',
      '-ac',
      '2',
      ...rtpOutput(opts.audio),
    );
  }
  return args;
}
