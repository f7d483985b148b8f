/**
 * The segment timeline of one channel: runs (FFmpeg process lifetimes), their
 * tracks and segments. The server owns this, not FFmpeg, so HLS and DASH are
 * rendered from one source of truth and survive FFmpeg restarts as
 * discontinuities / new Periods. Pure and in-memory; the clock is injectable.
 */
import type { OutputTrack } from '../../lib/stats.ts';
import { MediaError } from '../media/errors.ts';

/** A track as the stats show it, plus its timescale. */
export interface TrackInfo extends OutputTrack {
  timescale: number;
}

export interface Segment {
  /** Global per track, monotonically increasing across runs (HLS media sequence). */
  seq: number;
  /** FFmpeg's file number (seg_%05d), restarts with each run. */
  number: number;
  /** Relative to /live/<channelId>/, e.g. 'r1a2b/720p/seg_00003.m4s'. */
  uri: string;
  /** tfdt, in the track timescale. */
  start: number;
  /** In the track timescale. */
  duration: number;
  /** Epoch ms of the segment start (may be fractional). */
  pdt: number;
  bytes: number;
  /** Its CMAF parts (fragments), when read as they were written; not kept in the durable index. */
  parts?: readonly Part[];
}

/** A part (CMAF chunk: moof + mdat) of a segment: a byte range of its file. */
export interface Part {
  offset: number;
  length: number;
  /** In the track timescale. */
  duration: number;
  /** Starts with a keyframe (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
}

/** The segment being written: its parts so far. */
export interface PendingSegment {
  /** The media sequence number it will have. */
  seq: number;
  number: number;
  uri: string;
  /** tfdt of its first part. */
  start: number;
  /** Epoch ms of its start. */
  pdt: number;
  parts: Part[];
}

export interface NewPart {
  /** The segment's FFmpeg file number and uri (its final name). */
  number: number;
  uri: string;
  /** tfdt of the segment's first part. */
  start: number;
  part: Part;
}

export interface RunTrack {
  info: TrackInfo;
  /** e.g. 'r1a2b/720p/init.mp4' */
  initUri: string;
  segments: Segment[];
  /** HLS discontinuity sequence number of this track's segments in this run (per-track counter). */
  discontinuity: number;
  /** tfdt of the first segment ever added for this track in this run (DASH presentationTimeOffset). */
  firstStart: number | undefined;
  /** The segment FFmpeg is writing now, if its first part is out (live only). */
  pending?: PendingSegment;
}

export interface Run {
  id: string;
  startedAt: number;
  ended: boolean;
  /** Epoch ms that tfdt == firstStart maps to, for every track of the run; set by the first segment. */
  anchor: number | undefined;
  /** Insertion-ordered (order of setTrack). */
  tracks: Map<string, RunTrack>;
}

/** A window of the timeline: runs oldest first, each holding only its segments in the window. */
export interface TimelineView {
  runs: Run[];
}

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

/**
 * The segments of a view that start in [since, until) (epoch ms), every track
 * alike: a recording or a clip takes whole segments, cut where they start.
 * (Half a millisecond of slack for rounding.)
 */
export function spanView(view: TimelineView, since: number, until: number): TimelineView {
  const runs: Run[] = [];
  for (const run of view.runs) {
    // Audio is written apart from video and may be a segment ahead: it stops where the video stops.
    let videoEnd: number | undefined;
    for (const t of run.tracks.values()) {
      if (t.info.kind !== 'video') continue;
      for (const s of t.segments) {
        if (s.pdt + 0.5 < since || s.pdt + 0.5 >= until) continue;
        const end = s.pdt + (s.duration / t.info.timescale) * 1000;
        if (videoEnd === undefined || end > videoEnd) videoEnd = end;
      }
    }
    const last = Math.min(until, videoEnd ?? Infinity);
    const tracks = new Map<string, RunTrack>();
    for (const [id, t] of run.tracks) {
      const segments = t.segments.filter((s) => s.pdt + 0.5 >= since && s.pdt + 0.5 < last);
      if (segments.length > 0) tracks.set(id, { ...t, segments });
    }
    if (tracks.size > 0) runs.push({ ...run, tracks });
  }
  return { runs };
}

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
    const max = Math.max(1, Math.floor(options.maxSegments));
    const since = options.since ?? -Infinity;
    const until = options.until ?? Infinity;
    const perTrack = new Map<string, Segment[]>();
    const kinds = new Map<string, 'video' | 'audio'>();
    for (const run of this.runs) {
      for (const [id, track] of run.tracks) {
        kinds.set(id, track.info.kind);
        const list = perTrack.get(id) ?? [];
        // A segment belongs to [since, until) when it starts in it (half a millisecond of slack).
        for (const seg of track.segments) if (seg.pdt + 0.5 >= since && seg.pdt + 0.5 < until) list.push(seg);
        perTrack.set(id, list);
      }
    }
    const keep = new Set<Segment>();
    let cut: number | undefined;
    for (const [id, list] of perTrack) {
      if (kinds.get(id) !== 'video') continue;
      const tail = list.slice(-max);
      const first = tail[0];
      if (first && (cut === undefined || first.pdt < cut)) cut = first.pdt;
      for (const s of tail) keep.add(s);
    }
    for (const run of this.runs) {
      for (const track of run.tracks.values()) {
        if (track.info.kind === 'video') continue;
        if (cut === undefined) {
          for (const s of (perTrack.get(track.info.id) ?? []).slice(-max)) keep.add(s);
          continue;
        }
        const ms = 1000 / track.info.timescale;
        // Half a millisecond of slack so rounding does not pull in a segment that merely touches the cut.
        for (const s of track.segments)
          if (s.pdt + s.duration * ms > cut + 0.5 && s.pdt + 0.5 < until) keep.add(s);
      }
    }
    const runs: Run[] = [];
    const newest = this.runs.at(-1);
    for (const run of this.runs) {
      const tracks = new Map<string, RunTrack>();
      for (const [id, track] of run.tracks) {
        const segments = track.segments.filter((s) => keep.has(s));
        // The segment being written belongs to windows open at the live edge.
        const pending = run === newest && until === Infinity ? track.pending : undefined;
        if (segments.length > 0 || pending) {
          const copy: RunTrack = { ...track, info: { ...track.info }, segments };
          if (pending) copy.pending = { ...pending, parts: [...pending.parts] };
          else delete copy.pending;
          tracks.set(id, copy);
        }
      }
      if (tracks.size > 0) runs.push({ ...run, tracks });
    }
    return { runs };
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
    let end: number | undefined;
    for (const r of this.runs) {
      if (r === run) break;
      for (const track of r.tracks.values()) {
        const s = track.segments[track.segments.length - 1];
        if (!s) continue;
        const e = s.pdt + (s.duration / track.info.timescale) * 1000;
        if (end === undefined || e > end) end = e;
      }
    }
    return end;
  }
}

/** Seconds of the longest complete segment of any track in the view (0: none yet). */
export function longestSegmentSeconds(view: TimelineView): number {
  let longest = 0;
  for (const run of view.runs)
    for (const t of run.tracks.values())
      for (const seg of t.segments) longest = Math.max(longest, seg.duration / t.info.timescale);
  return longest;
}
