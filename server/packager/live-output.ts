/**
 * A channel's output: the segment timeline fed by each encoder run's indexer,
 * the retention windows over it (the live window, and each running program's
 * archive window), pruning of what no window needs, and recordings cut from it.
 * The hub wires runs in and out; the origin reads the timeline. With a journal,
 * every change is also written to the durable index, and after a restart the
 * output continues from it (`restore`, then `recover()`).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import { sweepDir, viewFiles } from './archive.ts';
import { RunIndexer, type IndexerTrack } from './segment-indexer.ts';
import {
  Timeline,
  spanView,
  type Run,
  type RunTrack,
  type Segment,
  type TimelineJournal,
  type TimelineView,
} from './timeline.ts';

export interface OutputRun {
  runId: string;
  runDir: string;
  /** Tracks the run writes; `bandwidth` omitted where it is measured (passthrough video). */
  tracks: readonly IndexerTrack[];
}

/** A span of the timeline something needs kept: the segments of the last `seconds` since `since`. */
export interface RetentionWindow {
  /** Epoch ms. */
  since: number;
  seconds: number;
}

/** A span of the timeline: what a program recorded, or a clip of it. */
export interface Recording {
  view: TimelineView;
  /** Program time (epoch ms) of the first segment's start and of the last segment's end. */
  start: number;
  end: number;
  durationSeconds: number;
  bytes: number;
}

export interface LiveOutputEvents {
  segment: [trackId: string, segment: Segment, run: OutputRun];
  /** A segment could not be indexed (skipped). */
  indexError: [trackId: string, error: unknown];
}

export interface LiveOutputOptions {
  liveDir: string;
  /** Segments in the live playlists. */
  liveWindowSegments: number;
  segmentSeconds: number;
  log: Logger;
  now?: () => number;
  /** Told of every timeline change (the durable index). */
  journal?: TimelineJournal;
  /** Runs saved before a restart: the timeline continues after them. */
  restore?: readonly Run[];
  /** The output's epoch kept from before a restart (the DASH availabilityStartTime). */
  startedAt?: number;
}

const ALL = Number.MAX_SAFE_INTEGER;

export class LiveOutput {
  readonly liveDir: string;
  readonly timeline: Timeline;
  /** The MPD's availabilityStartTime: fixed for the output's life. */
  readonly startedAt: number;
  readonly #opts: LiveOutputOptions;
  readonly #now: () => number;
  readonly #events: TypedEmitter<LiveOutputEvents>;
  readonly #indexers = new Map<string, RunIndexer>();
  readonly #windows = new Map<string, RetentionWindow>();
  /** Recordings being kept outlive pruning until their files are linked. */
  readonly #pinned = new Map<symbol, number>();
  #current: OutputRun | undefined;
  #segmentsWritten = 0;
  #closed = false;

  constructor(opts: LiveOutputOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.liveDir = opts.liveDir;
    this.timeline = new Timeline({ now: this.#now, ...(opts.journal ? { journal: opts.journal } : {}) });
    if (opts.restore && opts.restore.length > 0) this.timeline.restore(opts.restore);
    this.startedAt = opts.startedAt ?? this.#now();
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'output listener failed'));
  }

  on<E extends keyof LiveOutputEvents>(event: E, listener: (...args: LiveOutputEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  /** Tracks the current run writes (0 when none): a master playlist waits for all of them. */
  get expectedTracks(): number {
    return this.#current?.tracks.length ?? 0;
  }

  /** The output is over: players may stop polling. */
  get ended(): boolean {
    return this.#closed;
  }

  get segmentsWritten(): number {
    return this.#segmentsWritten;
  }

  beginRun(run: OutputRun): void {
    if (this.#closed) return;
    this.timeline.beginRun(run.runId);
    this.#current = run;
    const firstTrack = run.tracks[0]?.id;
    const indexer = new RunIndexer({
      runDir: run.runDir,
      runId: run.runId,
      timeline: this.timeline,
      tracks: run.tracks,
      onSegment: (trackId, segment) => {
        if (trackId === firstTrack) this.#segmentsWritten++;
        this.#events.emit('segment', trackId, segment, run);
        this.prune();
      },
      onError: (trackId, err) => this.#events.emit('indexError', trackId, err),
    }).start();
    this.#indexers.set(run.runId, indexer);
  }

  /** After the run's process has exited: index its last segments and close it. */
  async endRun(runId: string): Promise<void> {
    const indexer = this.#indexers.get(runId);
    this.#indexers.delete(runId);
    if (this.#current?.runId === runId) this.#current = undefined;
    if (indexer) {
      await indexer.flush().catch(() => undefined);
      indexer.close();
    }
    if (this.timeline.hasRun(runId)) this.timeline.endRun(runId);
  }

  setWindow(id: string, window: RetentionWindow): void {
    this.#windows.set(id, { ...window });
  }

  deleteWindow(id: string): void {
    this.#windows.delete(id);
  }

  window(id: string): RetentionWindow | undefined {
    return this.#windows.get(id);
  }

  /** Epoch ms before which no window needs a segment. */
  #keepAfter(now: number): number {
    const seg = this.#opts.segmentSeconds;
    // Twice the live window: players that fell behind still find their segments.
    let keepAfter = now - this.#opts.liveWindowSegments * seg * 2 * 1000;
    for (const w of this.#windows.values()) {
      keepAfter = Math.min(keepAfter, Math.max(w.since, now - w.seconds * 1000) - seg * 1000);
    }
    for (const pinned of this.#pinned.values()) keepAfter = Math.min(keepAfter, pinned);
    return keepAfter;
  }

  /** Drops segments no window needs, and their files. */
  prune(): void {
    const { uris, runIds } = this.timeline.prune(this.#keepAfter(this.#now()));
    for (const uri of uris) void rm(path.join(this.liveDir, uri), { force: true });
    for (const runId of runIds) void rm(path.join(this.liveDir, runId), { recursive: true, force: true });
  }

  /**
   * The segments that start in [since, until) (epoch ms), of every track: what a
   * program recorded, or a clip of it. Segment-accurate.
   */
  recording(since: number, until = Infinity): Recording {
    return recordingOf(spanView(this.timeline.window({ maxSegments: ALL }), since, until));
  }

  /** Keeps the recording's segments from pruning until the returned function is called. */
  hold(recording: Recording): () => void {
    const pin = Symbol('hold');
    this.#pinned.set(pin, recording.start - 1);
    return () => {
      this.#pinned.delete(pin);
    };
  }

  /** Bytes of every segment the output keeps (the live window and running programs' windows). */
  bytes(): number {
    let n = 0;
    for (const run of this.timeline.window({ maxSegments: ALL }).runs)
      for (const t of run.tracks.values()) for (const s of t.segments) n += s.bytes;
    return n;
  }

  /**
   * After a restart: indexes what FFmpeg completed after the last saved segment
   * (each file's completion time stands in for when it was seen), then removes
   * the files no index lists (half-written left-overs of a crash).
   */
  async recover(): Promise<void> {
    for (const run of this.timeline.window({ maxSegments: ALL }).runs) {
      const indexer = new RunIndexer({
        runDir: path.join(this.liveDir, run.id),
        runId: run.id,
        timeline: this.timeline,
        tracks: [...run.tracks.values()].map((t) => ({
          id: t.info.id,
          bandwidth: t.info.bandwidth,
          after: t.segments.at(-1)?.number ?? -1,
        })),
        useFileTimes: true,
        readParts: false,
        onError: (trackId, err) => this.#events.emit('indexError', trackId, err),
      });
      await indexer.flush();
      indexer.close();
    }
    const keep = new Set(viewFiles(this.timeline.window({ maxSegments: ALL })));
    const removed = await sweepDir(this.liveDir, keep);
    if (removed.length > 0) {
      this.#opts.log.info(
        { liveDir: this.liveDir, removed: removed.length },
        'removed files that no index references',
      );
    }
  }

  /** Forgets the live window (the channel was reset): every run's files are removed. */
  async reset(): Promise<void> {
    const runs = this.timeline.prune(ALL);
    for (const runId of runs.runIds)
      await rm(path.join(this.liveDir, runId), { recursive: true, force: true });
  }

  /** Stops indexing. Files stay for the next start. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [runId] of this.#indexers) await this.endRun(runId);
    this.#events.removeAll();
  }
}

/** The figures of a view: its span, duration (of one track, video when there is one) and bytes. */
export function recordingOf(view: TimelineView): Recording {
  let bytes = 0;
  let seconds = 0;
  let start = Infinity;
  let end = -Infinity;
  const runs: Run[] = [];
  for (const run of view.runs) {
    const tracks = new Map<string, RunTrack>();
    for (const [id, track] of run.tracks) if (track.segments.length > 0) tracks.set(id, track);
    if (tracks.size === 0) continue;
    const timed = [...tracks.values()].find((t) => t.info.kind === 'video') ?? [...tracks.values()][0]!;
    seconds += timed.segments.reduce((n, seg) => n + seg.duration / timed.info.timescale, 0);
    for (const track of tracks.values()) {
      const ms = 1000 / track.info.timescale;
      for (const seg of track.segments) {
        bytes += seg.bytes;
        start = Math.min(start, seg.pdt);
        end = Math.max(end, seg.pdt + seg.duration * ms);
      }
    }
    runs.push({ ...run, ended: true, tracks });
  }
  if (runs.length === 0) return { view: { runs: [] }, start: 0, end: 0, durationSeconds: 0, bytes: 0 };
  return { view: { runs }, start, end, durationSeconds: seconds, bytes };
}
