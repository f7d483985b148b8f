/**
 * Keeps a timeline's durable copy in SQLite: the packager's Timeline reports
 * every change here; changes are written in one transaction a few times a
 * second (off the media path's hot loop), and at once for a new run. After a
 * crash the timeline comes back from these rows (`savedTimeline`).
 */
import type { Logger } from '../log.ts';
import type { Run, RunTrack, Segment, TimelineJournal, TrackInfo } from '../packager/timeline.ts';
import type { SavedRun, SegmentKey, Store } from '../store/store.ts';

const FLUSH_EVERY_MS = 250;

type Op = () => void;

export class SqliteTimelineJournal implements TimelineJournal {
  readonly #store: Store;
  readonly #owner: string;
  readonly #log: Logger;
  #ops: Op[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(store: Store, owner: string, log: Logger) {
    this.#store = store;
    this.#owner = owner;
    this.#log = log;
  }

  runBegan(run: Run): void {
    this.#queue(() => this.#store.saveRun(this.#owner, savedRunHead(run)));
    // A run's row must exist before a crash can leave its files behind.
    this.flush();
  }

  trackSet(run: Run, track: RunTrack): void {
    const ord = [...run.tracks.values()].indexOf(track);
    const row = {
      trackId: track.info.id,
      ord: ord < 0 ? run.tracks.size : ord,
      info: { ...track.info },
      initUri: track.initUri,
      discontinuity: track.discontinuity,
      firstStart: track.firstStart ?? null,
    };
    this.#queue(() => this.#store.saveTrack(this.#owner, run.id, row));
  }

  runAnchored(run: Run): void {
    const head = savedRunHead(run);
    this.#queue(() => this.#store.saveRun(this.#owner, head));
  }

  segmentAdded(run: Run, trackId: string, segment: Segment): void {
    const seg = { ...segment };
    this.#queue(() => this.#store.saveSegment(this.#owner, run.id, trackId, seg));
  }

  runEnded(run: Run): void {
    const head = savedRunHead(run);
    this.#queue(() => this.#store.saveRun(this.#owner, head));
  }

  pruned(segments: SegmentKey[], runIds: string[]): void {
    this.#queue(() => {
      for (const key of segments) this.#store.deleteSegment(this.#owner, key);
      for (const runId of runIds) this.#store.deleteRun(this.#owner, runId);
    });
  }

  #queue(op: Op): void {
    if (this.#closed) return;
    this.#ops.push(op);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes what is pending, in one transaction. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const ops = this.#ops;
    if (ops.length === 0) return;
    this.#ops = [];
    try {
      this.#store.transaction(() => {
        for (const op of ops) op();
      });
    } catch (err) {
      this.#log.error({ err, owner: this.#owner }, 'the segment index could not be saved');
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
  }
}

function savedRunHead(run: Run): Omit<SavedRun, 'tracks'> {
  return { runId: run.id, startedAt: run.startedAt, anchor: run.anchor ?? null, ended: run.ended };
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

/** Writes a whole view (an asset's recording) under `owner`, in one transaction. */
export function saveView(store: Store, owner: string, runs: readonly Run[]): void {
  store.transaction(() => {
    store.deleteTimeline(owner);
    for (const run of runs) {
      store.saveRun(owner, { ...savedRunHead(run), ended: true });
      let ord = 0;
      for (const [trackId, t] of run.tracks) {
        store.saveTrack(owner, run.id, {
          trackId,
          ord: ord++,
          info: { ...t.info },
          initUri: t.initUri,
          discontinuity: t.discontinuity,
          firstStart: t.firstStart ?? null,
        });
        for (const seg of t.segments) store.saveSegment(owner, run.id, trackId, seg);
      }
    }
  });
}
