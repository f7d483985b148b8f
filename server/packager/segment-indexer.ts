/**
 * Feeds the timeline from one FFmpeg run's output directory. FFmpeg's own
 * per-track index.m3u8 is only the "segment complete" signal: a segment listed
 * there has been fully written, so it is read, parsed and added in order.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseInitSegment, parseMediaSegment } from './mp4.ts';
import type { FragmentInfo, InitInfo } from './mp4.ts';
import type { Segment, Timeline, TrackInfo } from './timeline.ts';

export interface IndexerTrack {
  /** Directory name under the run directory: '720p', 'audio', 'source', … */
  id: string;
  /** Declared bits/s (from the ladder); omitted for passthrough, where it is measured. */
  bandwidth?: number;
  /** FFmpeg file numbers up to this one are indexed already (after a restart). */
  after?: number;
}

export interface RunIndexerOptions {
  /** `<liveDir>/<runId>`. */
  runDir: string;
  runId: string;
  /** Must already contain the run (timeline.beginRun). */
  timeline: Timeline;
  tracks: readonly IndexerTrack[];
  onSegment?: (trackId: string, segment: Segment) => void;
  /** A segment or init that cannot be read or parsed; it is skipped, polling goes on. */
  onError?: (trackId: string, error: unknown) => void;
  intervalMs?: number;
  /**
   * Date each segment by its file's modification time instead of now: when
   * indexing after a restart what FFmpeg finished while onair was down.
   */
  useFileTimes?: boolean;
}

interface TrackState {
  id: string;
  declaredBandwidth: number | undefined;
  init: InitInfo | undefined;
  info: TrackInfo | undefined;
  initUri: string | undefined;
  /** Highest FFmpeg file number handled (indexed or skipped). */
  lastNumber: number;
  measuredBytes: number;
  measuredSeconds: number;
  measuredSegments: number;
}

/** Segments used to measure a passthrough track's bandwidth. */
const MEASURE_SEGMENTS = 3;
const SEGMENT_LINE = /^[\w.-]+\.m4s$/;

/** Entries of an FFmpeg playlist: the MAP uri and complete (newline-terminated) segment lines. */
export function parseFfmpegPlaylist(text: string): { map: string | undefined; segments: string[] } {
  // A line without its newline may still be being written.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  let map: string | undefined;
  const segments: string[] = [];
  for (const raw of complete.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MAP:')) {
      const m = /URI="([^"]+)"/.exec(line);
      if (m?.[1] !== undefined) map = m[1];
    } else if (line !== '' && !line.startsWith('#') && SEGMENT_LINE.test(line)) {
      segments.push(line);
    }
  }
  return { map, segments };
}

function fileNumber(name: string): number | undefined {
  const m = /(\d+)\.m4s$/.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

export class RunIndexer {
  private readonly opts: RunIndexerOptions;
  private readonly states: TrackState[];
  private timer: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private ticking = false;
  private closed = false;

  constructor(opts: RunIndexerOptions) {
    this.opts = opts;
    this.states = opts.tracks.map((t) => ({
      id: t.id,
      declaredBandwidth: t.bandwidth,
      init: undefined,
      info: undefined,
      initUri: undefined,
      lastNumber: t.after ?? -1,
      measuredBytes: 0,
      measuredSeconds: 0,
      measuredSegments: 0,
    }));
  }

  /** Start polling. Idempotent; a no-op after close(). */
  start(): this {
    if (this.timer || this.closed) return this;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 200);
    // Polling alone must not keep the process alive.
    this.timer.unref();
    return this;
  }

  /** Stop polling. Idempotent. flush() still works afterwards. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Scan once more, after any scan in progress: call when FFmpeg exits to index the last segments. */
  flush(): Promise<void> {
    this.queue = this.queue.then(() => this.scan());
    return this.queue;
  }

  private tick(): void {
    // Skip, rather than pile up, when a scan is slower than the interval.
    if (this.ticking) return;
    this.ticking = true;
    this.queue = this.queue
      .then(() => this.scan())
      .finally(() => {
        this.ticking = false;
      });
  }

  /** Never rejects: errors go to onError so the interval cannot produce unhandled rejections. */
  private async scan(): Promise<void> {
    for (const state of this.states) {
      try {
        await this.scanTrack(state);
      } catch (err) {
        this.opts.onError?.(state.id, err);
      }
    }
  }

  private async scanTrack(state: TrackState): Promise<void> {
    const dir = join(this.opts.runDir, state.id);
    let text: string;
    try {
      text = await readFile(join(dir, 'index.m3u8'), 'utf8');
    } catch (err) {
      if (isMissing(err)) return; // FFmpeg has not completed a segment yet
      throw err;
    }
    const playlist = parseFfmpegPlaylist(text);
    for (const name of playlist.segments) {
      const number = fileNumber(name);
      if (number === undefined || number <= state.lastNumber) continue;
      if (!state.init) await this.loadInit(state, dir, playlist.map ?? 'init.mp4');
      const init = state.init;
      if (!init) return;
      state.lastNumber = number;
      let buf: Buffer;
      try {
        buf = await readFile(join(dir, name));
      } catch (err) {
        // Deleted before we got to it (FFmpeg-side deletion): nothing to index.
        if (isMissing(err)) continue;
        throw err;
      }
      let fragment: FragmentInfo;
      try {
        fragment = parseMediaSegment(buf, init);
      } catch (err) {
        this.opts.onError?.(state.id, err);
        continue;
      }
      this.measure(state, buf.length, fragment.duration / init.timescale);
      const completedAt = this.opts.useFileTimes ? (await stat(join(dir, name))).mtimeMs : undefined;
      const segment = this.opts.timeline.addSegment(
        this.opts.runId,
        state.id,
        {
          number,
          uri: `${this.opts.runId}/${state.id}/${name}`,
          start: fragment.baseMediaDecodeTime,
          duration: fragment.duration,
          bytes: buf.length,
          sampleCount: fragment.sampleCount,
        },
        completedAt,
      );
      this.opts.onSegment?.(state.id, segment);
    }
  }

  private async loadInit(state: TrackState, dir: string, name: string): Promise<void> {
    // The playlist lists a segment only after the init segment has been written in full.
    const init = parseInitSegment(await readFile(join(dir, name)));
    state.init = init;
    // FFmpeg's MAP may climb out and back in (../720p/init.mp4): keep the uri canonical.
    state.initUri = posix.normalize(`${this.opts.runId}/${state.id}/${name}`);
    const info: TrackInfo = {
      id: state.id,
      kind: init.kind,
      codec: init.codec,
      bandwidth: state.declaredBandwidth ?? 0,
      timescale: init.timescale,
    };
    if (init.width !== undefined) info.width = init.width;
    if (init.height !== undefined) info.height = init.height;
    if (init.sampleRate !== undefined) info.sampleRate = init.sampleRate;
    if (init.channels !== undefined) info.channels = init.channels;
    state.info = info;
    this.opts.timeline.setTrack(this.opts.runId, info, state.initUri);
  }

  /** Passthrough: bandwidth = bytes*8/seconds over the first few segments. */
  private measure(state: TrackState, bytes: number, seconds: number): void {
    if (state.declaredBandwidth !== undefined || !state.info || !state.initUri) return;
    if (state.measuredSegments >= MEASURE_SEGMENTS || !(seconds > 0)) return;
    state.measuredBytes += bytes;
    state.measuredSeconds += seconds;
    state.measuredSegments++;
    state.info = { ...state.info, bandwidth: Math.round((state.measuredBytes * 8) / state.measuredSeconds) };
    this.opts.timeline.setTrack(this.opts.runId, state.info, state.initUri);
  }
}
