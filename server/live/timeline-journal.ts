/**
 * Keeps a timeline's durable copy in the store: the packager's Timeline
 * reports every change here; changes are written as one batch a few times a
 * second (off the media path's hot loop), and at once for a new run. After a
 * crash the timeline comes back from these rows (`savedTimeline`).
 */
import type { Logger } from '../log.ts';
import type { Run, RunTrack, Segment, TimelineJournal, TrackInfo } from '../packager/timeline.ts';
import type { SavedRun, SavedTrack, SegmentKey, Store, TimelineOp } from '../store/store.ts';

const FLUSH_EVERY_MS = 250;

export class StoreTimelineJournal implements TimelineJournal {
  readonly #store: Store;
  readonly #owner: string;
  readonly #log: Logger;
  #ops: TimelineOp[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Batches are written one after another, in the order they were made. */
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Store, owner: string, log: Logger) {
    this.#store = store;
    this.#owner = owner;
    this.#log = log;
  }

  runBegan(run: Run): void {
    this.#queue({ op: 'run', run: savedRunHead(run) });
    // A run's row must exist before a crash can leave its files behind.
    void this.flush();
  }

  trackSet(run: Run, track: RunTrack): void {
    const ord = [...run.tracks.values()].indexOf(track);
    this.#queue({
      op: 'track',
      runId: run.id,
      track: savedTrackHead(track.info.id, ord < 0 ? run.tracks.size : ord, track),
    });
  }

  runAnchored(run: Run): void {
    this.#queue({ op: 'run', run: savedRunHead(run) });
  }

  segmentAdded(run: Run, trackId: string, segment: Segment): void {
    this.#queue({ op: 'segment', runId: run.id, trackId, segment: { ...segment } });
  }

  runEnded(run: Run): void {
    this.#queue({ op: 'run', run: savedRunHead(run) });
  }

  pruned(segments: SegmentKey[], runIds: string[]): void {
    for (const key of segments) this.#queue({ op: 'drop-segment', key });
    for (const runId of runIds) this.#queue({ op: 'drop-run', runId });
  }

  #queue(op: TimelineOp): void {
    if (this.#closed) return;
    this.#ops.push(op);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes what is pending as one batch; resolves once it (and every batch before it) is written. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const ops = this.#ops;
    this.#ops = [];
    if (ops.length > 0) {
      this.#writing = this.#writing.then(() =>
        this.#store.timelines.apply(this.#owner, ops).catch((err: unknown) => {
          this.#log.error({ err, owner: this.#owner }, 'the segment index could not be saved');
        }),
      );
    }
    return this.#writing;
  }

  /** Idempotent: writes what is pending, then takes no more. */
  close(): Promise<void> {
    const done = this.flush();
    this.#closed = true;
    return done;
  }
}

function savedRunHead(run: Run): Omit<SavedRun, 'tracks'> {
  return { runId: run.id, startedAt: run.startedAt, anchor: run.anchor ?? null, ended: run.ended };
}

function savedTrackHead(trackId: string, ord: number, t: RunTrack): Omit<SavedTrack, 'segments'> {
  return {
    trackId,
    ord,
    info: { ...t.info },
    initUri: t.initUri,
    discontinuity: t.discontinuity,
    firstStart: t.firstStart ?? null,
  };
}

/** Saved rows back as timeline runs (for Timeline.restore). */
export function savedTimeline(saved: readonly SavedRun[]): Run[] {
  return saved.map((r) => ({
    id: r.runId,
    startedAt: r.startedAt,
    anchor: r.anchor ?? undefined,
    ended: true,
    tracks: new Map(
      r.tracks.map((t) => [
        t.trackId,
        {
          info: t.info as TrackInfo,
          initUri: t.initUri,
          discontinuity: t.discontinuity,
          firstStart: t.firstStart ?? undefined,
          segments: t.segments.map((s) => ({ ...s })),
        },
      ]),
    ),
  }));
}

/** Writes a whole view (an asset's recording) under `owner`, all or nothing. */
export function saveView(store: Store, owner: string, runs: readonly Run[]): Promise<void> {
  return store.timelines.replace(
    owner,
    runs.map((run) => ({
      ...savedRunHead(run),
      ended: true,
      tracks: [...run.tracks].map(([trackId, t], ord) => ({
        ...savedTrackHead(trackId, ord, t),
        segments: t.segments.map((s) => ({ ...s })),
      })),
    })),
  );
}
