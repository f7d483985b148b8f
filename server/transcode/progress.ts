/**
 * Parser for FFmpeg's `-progress pipe:1` output: blocks of key=value lines, each block ending with
 * `progress=continue` (or `progress=end` for the last one), e.g.
 *
 *   frame=140
 *   fps=19.87
 *   stream_0_0_q=24.0
 *   bitrate=N/A
 *   total_size=N/A
 *   out_time_us=7040000
 *   out_time_ms=7040000      (sic: microseconds as well, an old FFmpeg naming bug)
 *   out_time=00:00:07.040000
 *   dup_frames=0
 *   drop_frames=0
 *   speed=0.398x             (may be padded: "speed= 104x"; N/A at the start)
 *   progress=continue
 */

export interface ProgressSnapshot {
  frame?: number;
  fps?: number;
  /** Processing speed relative to real time (1 = real time). */
  speed?: number;
  /** Output position in milliseconds. */
  outTimeMs?: number;
  bitrateKbps?: number;
  totalSizeBytes?: number;
  dupFrames?: number;
  dropFrames?: number;
  progress: 'continue' | 'end';
}

function num(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '' || v === 'N/A') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function nonNegative(n: number | undefined): number | undefined {
  return n !== undefined && n >= 0 ? n : undefined;
}

/** Parse one block (or any key=value text); unknown keys are ignored, the last value of a key wins. */
export function parseProgressBlock(text: string): ProgressSnapshot {
  const kv = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const snapshot: ProgressSnapshot = { progress: kv.get('progress') === 'end' ? 'end' : 'continue' };

  const frame = nonNegative(num(kv.get('frame')));
  if (frame !== undefined) snapshot.frame = frame;
  const fps = nonNegative(num(kv.get('fps')));
  if (fps !== undefined) snapshot.fps = fps;

  const speedText = kv.get('speed');
  const speed = nonNegative(num(speedText?.endsWith('x') ? speedText.slice(0, -1) : speedText));
  if (speed !== undefined) snapshot.speed = speed;

  // out_time_us is the reliable one; out_time_ms is also microseconds in FFmpeg ≤ 7.
  const outUs = nonNegative(num(kv.get('out_time_us') ?? kv.get('out_time_ms')));
  if (outUs !== undefined) snapshot.outTimeMs = outUs / 1000;

  const bitrateText = kv.get('bitrate');
  const bitrate = nonNegative(num(bitrateText?.replace(/kbits\/s$/, '')));
  if (bitrate !== undefined) snapshot.bitrateKbps = bitrate;

  const size = nonNegative(num(kv.get('total_size')));
  if (size !== undefined) snapshot.totalSizeBytes = size;
  const dup = nonNegative(num(kv.get('dup_frames')));
  if (dup !== undefined) snapshot.dupFrames = dup;
  const drop = nonNegative(num(kv.get('drop_frames')));
  if (drop !== undefined) snapshot.dropFrames = drop;
  return snapshot;
}

/** Incremental splitter: feed stdout chunks as they come, get one snapshot per complete block. */
export class ProgressParser {
  private partial = '';
  private block: string[] = [];

  push(chunk: string): ProgressSnapshot[] {
    const out: ProgressSnapshot[] = [];
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      this.block.push(line);
      if (line.trim().startsWith('progress=')) {
        out.push(parseProgressBlock(this.block.join('\n')));
        this.block = [];
      }
    }
    return out;
  }
}
