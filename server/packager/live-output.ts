/**
 * A channel's output: the segment timeline fed by each encoder run's indexer,
 * the retention windows over it (the live window, and each running program's
 * archive window), pruning of what no window needs, and recordings cut from it.
 * The hub wires runs in and out; the origin reads the timeline.
 */
import { link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from './hls.ts';
import { RunIndexer, type IndexerTrack } from './segment-indexer.ts';
import { Timeline, type Run, type RunTrack, type Segment, type TimelineView } from './timeline.ts';

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

export interface Recording {
  view: TimelineView;
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
}

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
  /** Files being archived must outlive pruning until they are linked. */
  readonly #pinned = new Map<symbol, number>();
  readonly #archives = new Set<Promise<void>>();
  #current: OutputRun | undefined;
  #segmentsWritten = 0;
  #closed = false;

  constructor(opts: LiveOutputOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.liveDir = opts.liveDir;
    this.timeline = new Timeline({ now: this.#now });
    this.startedAt = this.#now();
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

  /** What the timeline holds since `since` (epoch ms): the segments a program recorded. */
  recordingSince(since: number): Recording {
    let bytes = 0;
    let seconds = 0;
    const full = this.timeline.window({ maxSegments: Number.MAX_SAFE_INTEGER });
    const runs: Run[] = [];
    for (const run of full.runs) {
      const tracks = new Map<string, RunTrack>();
      let counted = false;
      for (const [id, track] of run.tracks) {
        const segments = track.segments.filter((seg) => seg.pdt + 1 >= since);
        if (segments.length === 0) continue;
        tracks.set(id, { ...track, segments });
        for (const seg of segments) bytes += seg.bytes;
        if (!counted && track.info.kind === 'video') {
          counted = true;
          seconds += segments.reduce((n, seg) => n + seg.duration / track.info.timescale, 0);
        }
      }
      if (tracks.size > 0) runs.push({ ...run, ended: true, tracks });
    }
    return { view: { runs }, durationSeconds: seconds, bytes };
  }

  /**
   * Keeps a recording beyond the live window: its files are hard-linked into
   * `assetDir` with VOD playlists. Runs in the background (never on a request's
   * path); the segments stay pinned until they are linked. Rejects on failure.
   */
  archive(recording: Recording, assetDir: string): Promise<void> {
    const pin = Symbol('archive');
    const first = recording.view.runs[0]?.tracks.values().next().value?.segments[0];
    this.#pinned.set(pin, first ? first.pdt - 1 : this.#now());
    const job = writeArchive(recording.view, this.liveDir, assetDir, this.#opts.segmentSeconds).finally(
      () => {
        this.#pinned.delete(pin);
        this.#archives.delete(job);
      },
    );
    this.#archives.add(job);
    job.catch(() => undefined);
    return job;
  }

  /** Forgets the live window (the channel was reset): every run's files are removed. */
  async reset(): Promise<void> {
    const runs = this.timeline.prune(Number.MAX_SAFE_INTEGER);
    for (const runId of runs.runIds)
      await rm(path.join(this.liveDir, runId), { recursive: true, force: true });
  }

  /** Stops indexing; waits for archives in progress. Files stay for the next start. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [runId] of this.#indexers) await this.endRun(runId);
    await Promise.allSettled([...this.#archives]);
    this.#events.removeAll();
  }
}

async function writeArchive(
  view: TimelineView,
  liveDir: string,
  assetDir: string,
  segmentSeconds: number,
): Promise<void> {
  if (view.runs.length === 0) return;
  const trackIds = new Set<string>();
  for (const run of view.runs) {
    for (const [id, track] of run.tracks) {
      trackIds.add(id);
      for (const uri of [track.initUri, ...track.segments.map((seg) => seg.uri)]) {
        const target = path.join(assetDir, uri);
        await mkdir(path.dirname(target), { recursive: true });
        const exists = await stat(target).then(
          () => true,
          () => false,
        );
        if (!exists) await link(path.join(liveDir, uri), target);
      }
    }
  }
  const latest = view.runs.at(-1)!;
  await writeFile(
    path.join(assetDir, 'master.m3u8'),
    renderHlsMaster([...latest.tracks.values()].map((t) => t.info)),
  );
  for (const id of trackIds) {
    const body = renderHlsMediaPlaylist(view, id, { targetDuration: segmentSeconds, ended: true });
    await writeFile(path.join(assetDir, `${id}.m3u8`), body);
  }
}
