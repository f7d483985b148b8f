/**
 * argv for the FFmpeg process of one channel run: RTP in (input.sdp) → CMAF fMP4 HLS out, one track per
 * directory:
 *
 *   <runDir>/<trackId>/init.mp4
 *   <runDir>/<trackId>/seg_00000.m4s, seg_00001.m4s, …
 *   <runDir>/<trackId>/index.m3u8          (FFmpeg's own media playlist, last HLS_LIST_SIZE segments)
 *
 * trackId: the rendition name ('720p', '480p', '360p', …) in encode mode, 'source' in passthrough, and
 * 'audio'. FFmpeg creates the track directories itself; runDir must exist.
 *
 * Facts this relies on (FFmpeg 5.1, verified on this machine, see test/unit/ffmpeg-run.test.ts):
 * - with -var_stream_map and more than one variant the hls muxer appends `_<index>` to a plain
 *   -hls_fmp4_init_filename (init_0.mp4…) and resolves it against the playlist's directory, so
 *   `../%v/init.mp4` is what lands the init at <runDir>/<trackId>/init.mp4. The playlist's
 *   EXT-X-MAP URI is then "../<trackId>/init.mp4" (resolves to the same file). With a single variant
 *   %v is NOT expanded in the init name, so there the plain `init.mp4` is used (URI "init.mp4").
 * - -hls_flags temp_file: segments are written as seg_N.m4s.tmp and renamed when complete, the playlist
 *   likewise (index.m3u8.tmp). Nothing is ever deleted (no delete_segments): the server prunes.
 * - the SDP demuxer's -listen_timeout (seconds) is a read timeout for the whole input: with no packet
 *   on any socket for that long the read fails with ETIMEDOUT. FFmpeg then flushes its parsers (one
 *   more timeout per stream), so it exits by itself roughly (streams + 1) × timeout after the last RTP
 *   packet, with the files finished and #EXT-X-ENDLIST written.
 * - -localaddr 127.0.0.1 makes it bind loopback only (default is 0.0.0.0).
 * - passthrough: FFmpeg takes the H.264 SPS/PPS from the stream while probing (no sprop-parameter-sets
 *   needed in the SDP) and writes a valid avcC in init.mp4; no bitstream filter is needed.
 * - -fflags nobuffer is deliberately NOT used: it drops the packets read while probing, i.e. the first
 *   keyframe that the server's PLI asked for. +genpts is not used either: RTP packets always carry pts.
 */
import type { Ladder } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';

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
}

export interface FfmpegArgs {
  args: string[];
  tracks: TrackSpec[];
}

export const DEFAULT_INPUT_TIMEOUT_SECONDS = 2;
/** Entries kept in FFmpeg's own playlists; segment files are never deleted by FFmpeg. */
export const HLS_LIST_SIZE = 10;
export const PASSTHROUGH_TRACK_ID = 'source';
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
  if (runDir.includes('%') || runDir.length === 0) throw new RangeError('runDir must be non-empty and contain no %');
  if (ladder.renditions.length === 0) throw new RangeError('ladder has no renditions');
  const dir = runDir.endsWith('/') ? runDir.slice(0, -1) : runDir;

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
    '-i',
    sdpPath,
  ];

  if (mode === 'encode') {
    const n = ladder.renditions.length;
    const split = n === 1 ? '[0:v]null[s0]' : `[0:v]split=${String(n)}${ladder.renditions.map((_, i) => `[s${String(i)}]`).join('')}`;
    const chains = ladder.renditions.map((r, i) => `[s${String(i)}]${scaleFilter(r.width, r.height)}[v${String(i)}]`);
    args.push('-filter_complex', [split, ...chains].join(';'));
    ladder.renditions.forEach((_, i) => args.push('-map', `[v${String(i)}]`));
    if (hasAudio) args.push('-map', '0:a:0');
    args.push(
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
    );
    ladder.renditions.forEach((r, i) => {
      const s = `:v:${String(i)}`;
      args.push(`-b${s}`, kbps(r.videoKbps), `-maxrate${s}`, kbps(r.videoKbps * 1.06), `-bufsize${s}`, kbps(r.videoKbps * 2));
      if (!TRACK_ID.test(r.name)) throw new RangeError(`rendition name ${r.name} is not a valid track id`);
      tracks.push({ id: r.name, kind: 'video', bandwidth: r.videoKbps * 1000, width: r.width, height: r.height });
    });
  } else {
    args.push('-map', '0:v:0');
    if (hasAudio) args.push('-map', '0:a:0');
    args.push('-c:v', 'copy');
    const top = ladder.renditions[0];
    tracks.push({ id: PASSTHROUGH_TRACK_ID, kind: 'video', bandwidth: (top?.videoKbps ?? 0) * 1000 });
  }

  if (hasAudio) {
    args.push('-c:a', 'aac', '-b:a', kbps(ladder.audioKbps), '-ar', '48000', '-ac', '2');
    tracks.push({ id: AUDIO_TRACK_ID, kind: 'audio', bandwidth: ladder.audioKbps * 1000 });
  }

  let videoIndex = 0;
  let audioIndex = 0;
  const streamMap = tracks
    .map((t) => (t.kind === 'video' ? `v:${String(videoIndex++)}` : `a:${String(audioIndex++)}`) + `,name:${t.id}`)
    .join(' ');

  args.push(
    '-f',
    'hls',
    '-hls_time',
    String(segmentSeconds),
    '-hls_list_size',
    String(HLS_LIST_SIZE),
    '-hls_segment_type',
    'fmp4',
    '-hls_flags',
    'independent_segments+temp_file',
    '-hls_fmp4_init_filename',
    tracks.length > 1 ? '../%v/init.mp4' : 'init.mp4',
    '-hls_segment_filename',
    `${dir}/%v/seg_%05d.m4s`,
    '-var_stream_map',
    streamMap,
    `${dir}/%v/index.m3u8`,
  );

  return { args, tracks };
}
