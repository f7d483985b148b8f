/**
 * argv for the FFmpeg process of one channel run: RTP in (input.sdp) → CMAF fMP4 out, one dash muxer
 * output per track, each in its own directory:
 *
 *   <runDir>/<trackId>/init.mp4
 *   <runDir>/<trackId>/seg_00001.m4s, seg_00002.m4s, …   (the one being written: seg_N.m4s.tmp)
 *   <runDir>/<trackId>/manifest.mpd        (FFmpeg's own, unused)
 *
 * trackId: the rendition name ('720p', '480p', '360p', …) in encode mode, 'source' in passthrough, the
 * publisher's rendition names in passthrough-abr (several H.264 streams copied, one directory each), and
 * 'audio'. The run's track directories are made before FFmpeg starts; runDir must exist.
 *
 * Facts this relies on (FFmpeg 5.1, verified on this machine, see test/unit/ffmpeg-run.test.ts):
 * - the dash muxer with -streaming 1 and -frag_type duration writes each fragment (moof+mdat, one
 *   part) to seg_N.m4s.tmp as soon as it is complete, and renames the file to seg_N.m4s when the
 *   segment is complete; init.mp4 is complete before the first fragment is written. Numbers start at 1.
 *   (The hls muxer buffers a whole fMP4 segment in memory: no parts could be read before its end.)
 * - the SDP demuxer's -listen_timeout (whole seconds; default 10) is a read timeout for the whole
 *   input: with no packet (RTP or RTCP) on any of its sockets for that long the read fails with
 *   ETIMEDOUT ("input.sdp: Connection timed out" on stderr, repeated: FFmpeg retries the read while
 *   flushing its parsers). It then finishes the files (renames the last segment) and exits 0 by
 *   itself: measured 2 s (passthrough) to 4.2 s (encode, incl. encoding backlog) after the last packet
 *   with a 1 s timeout, ~12 s with 3 s. The same timeout applies before the first packet. SIGINT alone
 *   does not stop FFmpeg while it blocks waiting for RTP; rely on this timeout (then SIGKILL).
 * - -localaddr 127.0.0.1 makes it bind loopback only (default is 0.0.0.0).
 * - passthrough: FFmpeg takes the H.264 SPS/PPS from the stream while probing (no sprop-parameter-sets
 *   needed in the SDP) and writes a valid avcC in init.mp4; no bitstream filter is needed.
 * - -fflags nobuffer is deliberately NOT used: it drops the packets read while probing, i.e. the first
 *   keyframe that the server's PLI asked for. +genpts is not used either: RTP packets always carry pts.
 */
import type { Ladder } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import { partSecondsFor } from '../media/part-length.ts';

export interface TrackSpec {
  /** Directory name under runDir and id used by the packager. */
  id: string;
  kind: 'video' | 'audio';
  /** Target bit rate in bits per second (passthrough: an estimate, the publisher decides). */
  bandwidth: number;
  width?: number;
  height?: number;
}

export interface FfmpegArgsOptions {
  ladder: Ladder;
  mode: ChannelMode;
  segmentSeconds: number;
  sdpPath: string;
  runDir: string;
  /** Exit when no RTP has arrived for this long (whole seconds). Default DEFAULT_INPUT_TIMEOUT_SECONDS. */
  inputTimeoutSeconds?: number;
  hasAudio: boolean;
  /**
   * passthrough-abr: the input's video streams in SDP order, by rendition name (largest first).
   * Each is copied into its own directory.
   */
  videoTrackIds?: readonly string[];
}

export interface FfmpegArgs {
  args: string[];
  tracks: TrackSpec[];
}

export const DEFAULT_INPUT_TIMEOUT_SECONDS = 2;
/** Segments in FFmpeg's own MPD (unused by onair); segment files are never deleted by FFmpeg. */
const DASH_WINDOW_SIZE = 3;
/** dash muxer: segments kept outside its window before it deletes them, i.e. never. */
const DASH_NEVER_DELETE = 1_000_000_000;
export const PASSTHROUGH_TRACK_ID = 'source';
/**
 * Passthrough cuts where the publisher's keyframes are (the server asks for one by PLI every
 * segmentSeconds). FFmpeg cuts at the first keyframe whose pts − start ≥ n × hls_time (n = segments so
 * far, from the start): with hls_time = segmentSeconds a keyframe arriving even one frame early (PLI
 * jitter; FFmpeg also shifts copied RTP H.264 one frame early, see the run test) is skipped and the
 * segment doubles. With 0.75 × segmentSeconds every PLI keyframe up to a quarter segment early still
 * cuts, so segments follow the PLI cadence (≈ segmentSeconds).
 */
export const PASSTHROUGH_HLS_TIME_FACTOR = 0.75;
export const AUDIO_TRACK_ID = 'audio';
/** UDP receive buffer asked for each RTP socket (the kernel caps it at net.core.rmem_max). */
export const RTP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** RTP reordering: packets held and how long (µs) before giving up on a missing one. */
export const RTP_REORDER_QUEUE_SIZE = 500;
export const RTP_MAX_DELAY_US = 200_000;

const TRACK_ID = /^[A-Za-z0-9_-]+$/;

function kbps(n: number): string {
  return `${String(Math.round(n))}k`;
}

/**
 * Scale to the exact ladder size, keeping the aspect ratio: fit inside WxH, then pad (black bars) to
 * WxH. Every rendition therefore has exactly the size the manifests announce, whatever the camera.
 */
function scaleFilter(width: number, height: number): string {
  return (
    `scale=${String(width)}:${String(height)}:force_original_aspect_ratio=decrease:force_divisible_by=2,` +
    `pad=${String(width)}:${String(height)}:(ow-iw)/2:(oh-ih)/2,setsar=1`
  );
}

/**
 * AAC from the publisher's Opus. `aresample=async=1` fills a gap in the input's
 * timestamps with silence (a failover, a late slate), so the audio track stays
 * continuous where the video only holds its last picture.
 */
function audioEncode(audioKbps: number): string[] {
  return ['-af', 'aresample=async=1', '-c:a', 'aac', '-b:a', kbps(audioKbps), '-ar', '48000', '-ac', '2'];
}

function audioTrack(audioKbps: number): TrackSpec {
  return { id: AUDIO_TRACK_ID, kind: 'audio', bandwidth: audioKbps * 1000 };
}

/**
 * dash muxer options for one output holding one track, in its own directory. Not for FFmpeg's MPD
 * (onair renders its own): for CMAF segments written fragment by fragment (`-streaming 1`) into
 * `seg_N.m4s.tmp`, renamed to `seg_N.m4s` when complete, so the server can read each part as it
 * lands and a complete name always means a complete segment.
 */
function dashOutput(dir: string, segSeconds: number, partSeconds: number, track: TrackSpec): string[] {
  return [
    '-f',
    'dash',
    '-seg_duration',
    String(segSeconds),
    '-frag_type',
    'duration',
    '-frag_duration',
    String(partSeconds),
    '-streaming',
    '1',
    '-use_template',
    '1',
    '-use_timeline',
    '1',
    // FFmpeg's own MPD lists a few segments; it never deletes one (the server prunes).
    '-window_size',
    String(DASH_WINDOW_SIZE),
    '-extra_window_size',
    String(DASH_NEVER_DELETE),
    '-remove_at_exit',
    '0',
    '-init_seg_name',
    'init.mp4',
    '-media_seg_name',
    'seg_$Number%05d$.m4s',
    `${dir}/${track.id}/manifest.mpd`,
  ];
}

/** libx264 options of one rendition's output. */
function x264Output(segmentSeconds: number, videoKbps: number): string[] {
  return [
    // encode every input frame at its own timestamp (browser cameras are variable frame rate)
    '-fps_mode',
    'passthrough',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    // no B-frames: no composition offsets/edit lists, lower latency, same structure as passthrough
    '-bf',
    '0',
    '-sc_threshold',
    '0',
    // aligned IDR frames at every segment boundary in every rendition (same t in every branch)
    '-force_key_frames',
    `expr:gte(t,n_forced*${String(segmentSeconds)})`,
    '-b:v',
    kbps(videoKbps),
    '-maxrate:v',
    kbps(videoKbps * 1.06),
    '-bufsize:v',
    kbps(videoKbps * 2),
  ];
}

export function buildFfmpegArgs(opts: FfmpegArgsOptions): FfmpegArgs {
  const { ladder, mode, segmentSeconds, sdpPath, runDir, hasAudio } = opts;
  const timeout = opts.inputTimeoutSeconds ?? DEFAULT_INPUT_TIMEOUT_SECONDS;
  if (!Number.isInteger(segmentSeconds) || segmentSeconds < 1) {
    throw new RangeError(`segmentSeconds must be a positive whole number, got ${String(segmentSeconds)}`);
  }
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new RangeError(`inputTimeoutSeconds must be a positive whole number, got ${String(timeout)}`);
  }
  // '%' would be expanded by the hls muxer's filename templates.
  if (runDir.includes('%') || runDir.length === 0)
    throw new RangeError('runDir must be non-empty and contain no %');
  if (ladder.renditions.length === 0) throw new RangeError('ladder has no renditions');
  const dir = runDir.endsWith('/') ? runDir.slice(0, -1) : runDir;
  const part = partSecondsFor(segmentSeconds);

  const tracks: TrackSpec[] = [];
  const args: string[] = [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'warning',
    '-nostats',
    '-progress',
    'pipe:1',
    // input: the SDP describing the forwarded RTP
    '-protocol_whitelist',
    'file,udp,rtp',
    '-localaddr',
    '127.0.0.1',
    '-listen_timeout',
    String(timeout),
    '-buffer_size',
    String(RTP_RECEIVE_BUFFER_BYTES),
    '-reorder_queue_size',
    String(RTP_REORDER_QUEUE_SIZE),
    '-max_delay',
    String(RTP_MAX_DELAY_US),
    // No frame-rate probe: it held the first keyframe about a second (20 frames) before anything
    // was written; cameras are variable frame rate anyway (encode keeps each frame's timestamp).
    '-fpsprobesize',
    '0',
    '-i',
    sdpPath,
  ];

  if (mode === 'encode') {
    const n = ladder.renditions.length;
    const split =
      n === 1
        ? '[0:v]null[s0]'
        : `[0:v]split=${String(n)}${ladder.renditions.map((_, i) => `[s${String(i)}]`).join('')}`;
    const chains = ladder.renditions.map(
      (r, i) => `[s${String(i)}]${scaleFilter(r.width, r.height)}[v${String(i)}]`,
    );
    args.push('-filter_complex', [split, ...chains].join(';'));
    ladder.renditions.forEach((r, i) => {
      if (!TRACK_ID.test(r.name)) throw new RangeError(`rendition name ${r.name} is not a valid track id`);
      const track: TrackSpec = {
        id: r.name,
        kind: 'video',
        bandwidth: r.videoKbps * 1000,
        width: r.width,
        height: r.height,
      };
      tracks.push(track);
      args.push(
        '-map',
        `[v${String(i)}]`,
        ...x264Output(segmentSeconds, r.videoKbps),
        ...dashOutput(dir, segmentSeconds, part, track),
      );
    });
  } else if (mode === 'passthrough-abr') {
    // Every rendition's H.264 as is, each its own output: each cuts at its own keyframes, which the
    // publisher aligns across renditions (checked by the ingest, reported when they are not).
    const ids = opts.videoTrackIds ?? [];
    if (ids.length === 0) throw new RangeError('passthrough-abr needs at least one video track');
    ids.forEach((id, i) => {
      if (!TRACK_ID.test(id) || id === AUDIO_TRACK_ID)
        throw new RangeError(`rendition name ${id} is not a valid track id`);
      const video: TrackSpec = { id, kind: 'video', bandwidth: 0 };
      tracks.push(video);
      args.push(
        '-map',
        `0:v:${String(i)}`,
        '-c:v',
        'copy',
        ...dashOutput(dir, segmentSeconds * PASSTHROUGH_HLS_TIME_FACTOR, part, video),
      );
    });
    if (new Set(ids).size !== ids.length) throw new RangeError('rendition names must be distinct');
  } else {
    // The publisher's H.264 as is. Its own output: hls_time is per muxer and differs from the audio's.
    const top = ladder.renditions[0];
    const video: TrackSpec = {
      id: PASSTHROUGH_TRACK_ID,
      kind: 'video',
      bandwidth: (top?.videoKbps ?? 0) * 1000,
    };
    tracks.push(video);
    args.push(
      '-map',
      '0:v:0',
      '-c:v',
      'copy',
      ...dashOutput(dir, segmentSeconds * PASSTHROUGH_HLS_TIME_FACTOR, part, video),
    );
  }

  // AAC from the publisher's audio, whatever the video does: its own output, cut at segmentSeconds.
  if (hasAudio) {
    const audio = audioTrack(ladder.audioKbps);
    tracks.push(audio);
    args.push(
      '-map',
      '0:a:0',
      ...audioEncode(ladder.audioKbps),
      ...dashOutput(dir, segmentSeconds, part, audio),
    );
  }
  return { args, tracks };
}
