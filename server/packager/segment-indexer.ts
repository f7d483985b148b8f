/**
 * Feeds the timeline from one FFmpeg run's output directory. FFmpeg writes each
 * segment as `seg_N.m4s.tmp`, fragment by fragment, and renames it `seg_N.m4s`
 * when complete: a complete name is the "segment complete" signal, and each
 * complete fragment of the growing file is a part, announced at once (LL-HLS
 * parts, LL-DASH chunks). The track directories are watched (fs.watch), with a
 * slow directory scan as the safety net for missed or unsupported events.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseInitSegment, parseMediaSegment, splitParts } from './mp4.ts';
import type { FragmentInfo, InitInfo } from './mp4.ts';
import type { Part, Segment, Timeline, TrackInfo } from './timeline.ts';

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
  /** A segment or init that cannot be read or parsed; it is skipped, indexing goes on. */
  onError?: (trackId: string, error: unknown) => void;
  /** Directory scan interval, the safety net under fs.watch (default 1000 ms; 200 ms without fs.watch). */
  intervalMs?: number;
  /** Read the segment being written and announce its parts (default true; not when recovering). */
  readParts?: boolean;
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
  /** The segment being written: its number and the parts announced so far. */
  pendingNumber: number | undefined;
  pendingParts: number;
  /** A scan of this track is wanted (a watch event arrived). */
  dirty: boolean;
  watcher: FSWatcher | undefined;
}

/** Segments used to measure a passthrough track's bandwidth. */
const MEASURE_SEGMENTS = 3;

const SEGMENT_FILE = /^seg_(\d{5,9})\.m4s$/;
const TEMP_FILE = /^seg_(\d{5,9})\.m4s\.tmp$/;

function numbered(names: readonly string[], pattern: RegExp): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (m?.[1] !== undefined) out.push([Number(m[1]), name]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The parts of a segment file (complete or growing) with their durations. */
export function readParts(buf: Buffer, init: InitInfo): Part[] {
  return splitParts(buf).map((r) => {
    const f = parseMediaSegment(buf.subarray(r.offset, r.offset + r.length), init);
    return { offset: r.offset, length: r.length, duration: f.duration, independent: f.startsWithKeyframe };
  });
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

export class RunIndexer {
  private readonly opts: RunIndexerOptions;
  private readonly states: TrackState[];
  private timer: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private scanning = false;
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
      pendingNumber: undefined,
      pendingParts: 0,
      dirty: true,
      watcher: undefined,
    }));
  }

  /** Start watching (and the safety-net scan). Idempotent; a no-op after close(). */
  start(): this {
    if (this.timer || this.closed) return this;
    let watching = true;
    for (const state of this.states) {
      const dir = join(this.opts.runDir, state.id);
      try {
        // FFmpeg's run makes the directories; making them here lets the watch start at once.
        void mkdir(dir, { recursive: true }).catch(() => undefined);
        state.watcher = watch(dir, { persistent: false }, () => this.poke(state));
        state.watcher.on('error', () => {
          state.watcher?.close();
          state.watcher = undefined;
        });
      } catch {
        watching = false;
      }
    }
    const interval = this.opts.intervalMs ?? (watching ? 1000 : 200);
    this.timer = setInterval(() => {
      for (const state of this.states) state.dirty = true;
      this.kick();
    }, interval);
    // Indexing alone must not keep the process alive.
    this.timer.unref();
    this.kick();
    return this;
  }

  /** Stop watching. Idempotent. flush() still works afterwards. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const state of this.states) {
      state.watcher?.close();
      state.watcher = undefined;
    }
  }

  /** Scan once more, after any scan in progress: call when FFmpeg exits to index the last segments. */
  flush(): Promise<void> {
    this.queue = this.queue.then(() => this.scan(this.states, false));
    return this.queue;
  }

  private poke(state: TrackState): void {
    state.dirty = true;
    this.kick();
  }

  /** One scan at a time; events during a scan make one more scan after it. */
  private kick(): void {
    if (this.scanning || this.closed) return;
    const due = this.states.filter((s) => s.dirty);
    if (due.length === 0) return;
    for (const s of due) s.dirty = false;
    this.scanning = true;
    this.queue = this.queue
      .then(() => this.scan(due, this.opts.readParts ?? true))
      .finally(() => {
        this.scanning = false;
        this.kick();
      });
  }

  /** Never rejects: errors go to onError so watch events cannot produce unhandled rejections. */
  private async scan(states: readonly TrackState[], parts: boolean): Promise<void> {
    for (const state of states) {
      try {
        await this.scanTrack(state, parts);
      } catch (err) {
        this.opts.onError?.(state.id, err);
      }
    }
  }

  private async scanTrack(state: TrackState, withParts: boolean): Promise<void> {
    const dir = join(this.opts.runDir, state.id);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return; // FFmpeg has not started writing this track
      throw err;
    }
    const complete = numbered(names, SEGMENT_FILE).filter(([n]) => n > state.lastNumber);
    const growing = withParts
      ? numbered(names, TEMP_FILE)
          .filter(([n]) => n > state.lastNumber && complete.every(([c]) => c < n))
          .at(-1)
      : undefined;
    if (complete.length === 0 && !growing) return;
    if (!state.init) {
      try {
        await this.loadInit(state, dir, 'init.mp4');
      } catch (err) {
        // Complete segments imply a complete init; a first part may be a moment ahead of it.
        if (complete.length === 0) return;
        throw err;
      }
    }
    const init = state.init;
    if (!init) return;
    for (const [number, name] of complete) {
      state.lastNumber = number;
      let buf: Buffer;
      try {
        buf = await readFile(join(dir, name));
      } catch (err) {
        // Deleted before we got to it: nothing to index.
        if (isMissing(err)) continue;
        throw err;
      }
      let fragment: FragmentInfo;
      let parts: Part[];
      try {
        fragment = parseMediaSegment(buf, init);
        parts = readParts(buf, init);
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
          parts,
        },
        completedAt,
      );
      if (state.pendingNumber !== undefined && state.pendingNumber <= number) state.pendingNumber = undefined;
      this.opts.onSegment?.(state.id, segment);
    }
    if (growing) await this.readGrowing(state, dir, init, growing[0], growing[1]);
  }

  /** Announces the parts of the segment being written that are new since the last scan. */
  private async readGrowing(
    state: TrackState,
    dir: string,
    init: InitInfo,
    number: number,
    name: string,
  ): Promise<void> {
    let buf: Buffer;
    try {
      buf = await readFile(join(dir, name));
    } catch (err) {
      if (isMissing(err)) return; // renamed meanwhile: the next scan indexes it whole
      throw err;
    }
    if (state.pendingNumber !== number) {
      state.pendingNumber = number;
      state.pendingParts = 0;
    }
    const parts = readParts(buf, init);
    if (parts.length <= state.pendingParts) return;
    const first = parseMediaSegment(
      buf.subarray(parts[0]!.offset, parts[0]!.offset + parts[0]!.length),
      init,
    );
    for (const part of parts.slice(state.pendingParts)) {
      this.opts.timeline.addPart(this.opts.runId, state.id, {
        number,
        uri: `${this.opts.runId}/${state.id}/${name.slice(0, -'.tmp'.length)}`,
        start: first.baseMediaDecodeTime,
        part,
      });
    }
    state.pendingParts = parts.length;
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
