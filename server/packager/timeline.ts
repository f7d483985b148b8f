/**
 * The segment timeline of one channel: runs (FFmpeg process lifetimes), their
 * tracks and segments. The server owns this, not FFmpeg, so HLS and DASH are
 * rendered from one source of truth and survive FFmpeg restarts as
 * discontinuities / new Periods. Pure and in-memory; the clock is injectable.
 */
import { MediaError } from '../media/errors.ts';
import {
  runsEnd,
  windowOf,
  type Part,
  type PendingSegment,
  type Run,
  type RunTrack,
  type Segment,
  type TimelineView,
  type TrackInfo,
} from './timeline-view.ts';

// The view's types and arithmetic are imported from here by the renderers, the origin and the store.
export * from './timeline-view.ts';

export interface NewSegment {
  number: number;
  uri: string;
  start: number;
  duration: number;
  bytes: number;
  /** Used to derive the frame rate of video tracks that do not declare one. */
  sampleCount?: number;
  parts?: readonly Part[];
}

export interface NewPart {
  /** The segment's FFmpeg file number and uri (its final name). */
  number: number;
  uri: string;
  /** tfdt of the segment's first part. */
  start: number;
  part: Part;
}

export interface PruneResult {
  /** Segment and init uris no longer referenced: the caller deletes these files. */
  uris: string[];
  /** Runs removed entirely: the caller may delete their directories. */
  runIds: string[];
}

/**
 * Told of every change, after it is made: the durable index (SQLite) follows
 * the timeline through this, so a crash loses nothing that was indexed.
 */
export interface TimelineJournal {
  runBegan(run: Run): void;
  /** A track was declared or its info changed (e.g. a measured bandwidth). */
  trackSet(run: Run, track: RunTrack): void;
  /** The run got its anchor (with its first segment). */
  runAnchored(run: Run): void;
  segmentAdded(run: Run, trackId: string, segment: Segment): void;
  runEnded(run: Run): void;
  /** Segments and whole runs left the timeline. */
  pruned(segments: { runId: string; trackId: string; number: number }[], runIds: string[]): void;
}

interface TrackStats {
  samples: number;
  ticks: number;
  declaredFrameRate: boolean;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export class Timeline {
  private readonly runs: Run[] = [];
  private readonly now: () => number;
  private readonly nextSeq = new Map<string, number>();
  private readonly lastDiscontinuity = new Map<string, number>();
  private readonly stats = new WeakMap<RunTrack, TrackStats>();
  private lastAdded: number | undefined;
  private readonly journal: TimelineJournal | undefined;
  private changes = 0;
  private readonly waiters = new Set<() => void>();

  constructor(options: { now?: () => number; journal?: TimelineJournal } = {}) {
    this.now = options.now ?? Date.now;
    this.journal = options.journal;
  }

  /**
   * Takes back runs saved earlier (after a restart): they are ended, and media
   * sequence and discontinuity numbers continue after theirs. Only on an empty timeline.
   */
  restore(runs: readonly Run[]): void {
    if (this.runs.length > 0) throw new MediaError('invalid_state', 'restore needs an empty timeline');
    for (const saved of runs) {
      const run: Run = { ...saved, ended: true, tracks: new Map() };
      for (const [id, t] of saved.tracks) {
        const track: RunTrack = { ...t, info: { ...t.info }, segments: [...t.segments] };
        run.tracks.set(id, track);
        const last = track.segments.at(-1);
        if (last) this.nextSeq.set(id, Math.max(this.nextSeq.get(id) ?? 0, last.seq + 1));
        if (track.firstStart !== undefined) {
          this.lastDiscontinuity.set(id, Math.max(this.lastDiscontinuity.get(id) ?? -1, track.discontinuity));
        }
        this.stats.set(track, { samples: 0, ticks: 0, declaredFrameRate: true });
      }
      this.runs.push(run);
    }
  }

  beginRun(id: string, startedAt: number = this.now()): Run {
    if (this.runs.some((r) => r.id === id)) throw new MediaError('invalid_state', `run ${id} already exists`);
    // A new run implies the previous one is over, whether or not endRun was called.
    const prev = this.runs[this.runs.length - 1];
    const run: Run = { id, startedAt, ended: false, anchor: undefined, tracks: new Map() };
    this.runs.push(run);
    if (prev) {
      prev.ended = true;
      for (const t of prev.tracks.values()) delete t.pending;
    }
    if (prev) this.journal?.runEnded(prev);
    this.journal?.runBegan(run);
    this.changed();
    return run;
  }

  endRun(runId: string): void {
    const run = this.getRun(runId);
    if (run.ended) return;
    run.ended = true;
    // A part of a segment FFmpeg never finished is not coming.
    for (const t of run.tracks.values()) delete t.pending;
    this.journal?.runEnded(run);
    this.changed();
  }

  /** Bumped on every change: renderings of the timeline are valid while it stays the same. */
  get version(): number {
    return this.changes;
  }

  /**
   * Resolves true at the next change, or false after `timeoutMs` (blocking
   * playlist reloads, parts announced before they exist).
   */
  waitForChange(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  private changed(): void {
    this.changes++;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * A part of the segment being written: announced before the segment is complete.
   * The run is anchored by its first part, as by its first segment otherwise.
   */
  addPart(runId: string, trackId: string, input: NewPart, now: number = this.now()): PendingSegment {
    const run = this.getRun(runId);
    const track = run.tracks.get(trackId);
    if (!track) throw new MediaError('invalid_state', `track ${trackId} not declared in run ${runId}`);
    const last = track.segments.at(-1);
    if (last && input.number <= last.number) {
      throw new MediaError('invalid_state', `part of segment ${input.number} after ${last.number}`);
    }
    if (!(input.part.duration > 0))
      throw new MediaError('invalid_state', `part of ${input.uri} has no duration`);
    this.anchor(run, track, input.start, input.part.duration, now);
    let pending = track.pending;
    if (!pending || pending.number !== input.number) {
      pending = {
        seq: this.nextSeq.get(trackId) ?? 0,
        number: input.number,
        uri: input.uri,
        start: input.start,
        pdt: run.anchor! + ((input.start - track.firstStart!) / track.info.timescale) * 1000,
        parts: [],
      };
      track.pending = pending;
    }
    pending.parts.push({ ...input.part });
    this.changed();
    return pending;
  }

  /** The run's anchor and the track's first tfdt, set by its first segment or part (`duration` ticks, just completed). */
  private anchor(run: Run, track: RunTrack, start: number, duration: number, now: number): void {
    if (run.anchor === undefined) {
      // The first segment (or part) just completed, so it started one duration ago.
      let anchor = now - (duration / track.info.timescale) * 1000;
      // Keep program time monotonic across runs even if the previous run's media ran ahead of the wall clock.
      const prevEnd = this.endPdtBefore(run);
      if (prevEnd !== undefined && anchor < prevEnd) anchor = prevEnd;
      run.anchor = anchor;
      this.journal?.runAnchored(run);
    }
    if (track.firstStart === undefined) {
      track.firstStart = start;
      const d = this.lastDiscontinuity.get(track.info.id);
      track.discontinuity = d === undefined ? 0 : d + 1;
      this.lastDiscontinuity.set(track.info.id, track.discontinuity);
      this.journal?.trackSet(run, track);
    }
  }

  /** Declare (or update, e.g. a measured bandwidth) a track of a run. Segments are kept. */
  setTrack(runId: string, info: TrackInfo, initUri: string): RunTrack {
    const run = this.getRun(runId);
    const existing = run.tracks.get(info.id);
    if (existing) {
      const stats = this.stats.get(existing);
      const computed = existing.info.frameRate;
      existing.info = { ...info };
      if (stats) {
        stats.declaredFrameRate = info.frameRate !== undefined;
        if (!stats.declaredFrameRate && computed !== undefined) existing.info.frameRate = computed;
      }
      existing.initUri = initUri;
      this.journal?.trackSet(run, existing);
      this.changed();
      return existing;
    }
    const track: RunTrack = {
      info: { ...info },
      initUri,
      segments: [],
      discontinuity: 0,
      firstStart: undefined,
    };
    this.stats.set(track, { samples: 0, ticks: 0, declaredFrameRate: info.frameRate !== undefined });
    run.tracks.set(info.id, track);
    this.journal?.trackSet(run, track);
    this.changed();
    return track;
  }

  addSegment(runId: string, trackId: string, input: NewSegment, now: number = this.now()): Segment {
    const run = this.getRun(runId);
    const track = run.tracks.get(trackId);
    if (!track) throw new MediaError('invalid_state', `track ${trackId} not declared in run ${runId}`);
    const last = track.segments[track.segments.length - 1];
    if (last && input.number <= last.number) {
      throw new MediaError(
        'invalid_state',
        `segment ${input.number} of ${runId}/${trackId} is not after ${last.number}`,
      );
    }
    if (!(input.duration > 0)) throw new MediaError('invalid_state', `segment ${input.uri} has no duration`);
    const { timescale } = track.info;
    this.anchor(run, track, input.start, input.duration, now);
    if (track.pending && track.pending.number <= input.number) delete track.pending;

    const seq = this.nextSeq.get(trackId) ?? 0;
    this.nextSeq.set(trackId, seq + 1);
    const segment: Segment = {
      seq,
      number: input.number,
      uri: input.uri,
      start: input.start,
      duration: input.duration,
      pdt: run.anchor! + ((input.start - track.firstStart!) / timescale) * 1000,
      bytes: input.bytes,
    };
    if (input.parts && input.parts.length > 0) segment.parts = input.parts.map((p) => ({ ...p }));
    track.segments.push(segment);
    this.lastAdded = now;

    const stats = this.stats.get(track);
    if (stats && track.info.kind === 'video' && input.sampleCount !== undefined && input.sampleCount > 0) {
      stats.samples += input.sampleCount;
      stats.ticks += input.duration;
      if (!stats.declaredFrameRate) {
        const fps = round3(stats.samples / (stats.ticks / timescale));
        if (fps !== track.info.frameRate) {
          track.info.frameRate = fps;
          this.journal?.trackSet(run, track);
        }
      }
    }
    this.journal?.segmentAdded(run, trackId, segment);
    this.changed();
    return segment;
  }

  /**
   * The last `maxSegments` segments of each video track across runs, and the
   * segments of the other (audio) tracks that overlap the same time span.
   * Without video, the last `maxSegments` of each track.
   */
  window(options: { maxSegments: number; since?: number; until?: number }): TimelineView {
    return windowOf(this.runs, options);
  }

  /**
   * Drop segments that end at or before `keepAfterPdt` (epoch ms), and runs left
   * without segments (except the current, still running one).
   */
  prune(keepAfterPdt: number): PruneResult {
    const uris: string[] = [];
    const runIds: string[] = [];
    const removed: { runId: string; trackId: string; number: number }[] = [];
    const last = this.runs[this.runs.length - 1];
    for (const run of [...this.runs]) {
      let remaining = 0;
      for (const [trackId, track] of run.tracks) {
        const ms = 1000 / track.info.timescale;
        const kept: Segment[] = [];
        for (const s of track.segments) {
          if (s.pdt + s.duration * ms <= keepAfterPdt) {
            uris.push(s.uri);
            removed.push({ runId: run.id, trackId, number: s.number });
          } else kept.push(s);
        }
        track.segments = kept;
        remaining += kept.length;
      }
      const current = run === last && !run.ended;
      if (remaining === 0 && !current) {
        for (const track of run.tracks.values()) uris.push(track.initUri);
        this.runs.splice(this.runs.indexOf(run), 1);
        runIds.push(run.id);
      }
    }
    if (removed.length > 0 || runIds.length > 0) {
      this.journal?.pruned(removed, runIds);
      this.changed();
    }
    return { uris, runIds };
  }

  isEmpty(): boolean {
    return this.segmentCount() === 0;
  }

  /** Wall-clock epoch ms at which the last segment was added, or undefined if none yet. */
  lastSegmentAt(): number | undefined {
    return this.lastAdded;
  }

  /** Segments held, of one track or of all tracks. */
  segmentCount(trackId?: string): number {
    let n = 0;
    for (const run of this.runs) {
      for (const [id, track] of run.tracks)
        if (trackId === undefined || id === trackId) n += track.segments.length;
    }
    return n;
  }

  /** Tracks of the newest run that has any (for the master playlist), in declaration order. */
  latestTracks(): TrackInfo[] {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const run = this.runs[i];
      if (run && run.tracks.size > 0) return [...run.tracks.values()].map((t) => ({ ...t.info }));
    }
    return [];
  }

  latestRun(): Run | undefined {
    return this.runs[this.runs.length - 1];
  }

  getRun(runId: string): Run {
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw new MediaError('invalid_state', `unknown run ${runId}`);
    return run;
  }

  hasRun(runId: string): boolean {
    return this.runs.some((r) => r.id === runId);
  }

  /** End (epoch ms) of the latest segment of the runs before `run`. */
  private endPdtBefore(run: Run): number | undefined {
    const i = this.runs.indexOf(run);
    return runsEnd(i < 0 ? this.runs : this.runs.slice(0, i));
  }
}
