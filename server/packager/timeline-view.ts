/**
 * The timeline as its renderers see it (runs, tracks, segments, parts) and the
 * pure arithmetic over a view: windows, spans, ends. The stateful `Timeline`
 * that builds it is in timeline.ts.
 */
import type { OutputTrack } from '../../lib/stats.ts';

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

/**
 * The last `maxSegments` segments of each video track across `all`, and the
 * segments of the other (audio) tracks that overlap the same time span.
 * Without video, the last `maxSegments` of each track. The segment being
 * written belongs to windows open at the live edge (no `until`).
 */
export function windowOf(
  all: readonly Run[],
  options: { maxSegments: number; since?: number; until?: number },
): TimelineView {
  const max = Math.max(1, Math.floor(options.maxSegments));
  const since = options.since ?? -Infinity;
  const until = options.until ?? Infinity;
  const perTrack = new Map<string, Segment[]>();
  const kinds = new Map<string, 'video' | 'audio'>();
  for (const run of all) {
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
  for (const run of all) {
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
  const newest = all.at(-1);
  for (const run of all) {
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

/** End (epoch ms) of the latest segment of any track of `runs` (undefined: none). */
export function runsEnd(runs: Iterable<Run>): number | undefined {
  let end: number | undefined;
  for (const run of runs) {
    for (const t of run.tracks.values()) {
      const s = t.segments[t.segments.length - 1];
      if (!s) continue;
      const e = s.pdt + (s.duration / t.info.timescale) * 1000;
      if (end === undefined || e > end) end = e;
    }
  }
  return end;
}

/** Seconds of the longest complete segment of any track in the view (0: none yet). */
export function longestSegmentSeconds(view: TimelineView): number {
  let longest = 0;
  for (const run of view.runs)
    for (const t of run.tracks.values())
      for (const seg of t.segments) longest = Math.max(longest, seg.duration / t.info.timescale);
  return longest;
}
