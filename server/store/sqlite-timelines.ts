/* eslint-disable @typescript-eslint/require-await -- node:sqlite answers at once; the repositories' contract is async, and an error thrown here reaches the caller as a rejection. */
/** The durable segment index and each channel's output epoch, on the embedded database. */
import type { SavedRun, SavedSegment, SavedTrack, TimelineOp, TimelineRepository } from './repositories.ts';
import { numOrNull, str, SqliteTable } from './sqlite.ts';

export class SqliteTimelines extends SqliteTable implements TimelineRepository {
  async apply(owner: string, ops: readonly TimelineOp[]): Promise<void> {
    if (ops.length === 0) return;
    this.db.atomically(() => {
      for (const o of ops) this.#apply(owner, o);
    });
  }

  async replace(owner: string, runs: readonly SavedRun[]): Promise<void> {
    this.db.atomically(() => {
      this.#delete(owner);
      for (const run of runs) {
        this.#apply(owner, { op: 'run', run });
        for (const track of run.tracks) {
          this.#apply(owner, { op: 'track', runId: run.runId, track });
          for (const segment of track.segments)
            this.#apply(owner, { op: 'segment', runId: run.runId, trackId: track.trackId, segment });
        }
      }
    });
  }

  #apply(owner: string, o: TimelineOp): void {
    switch (o.op) {
      case 'run':
        this.db.run(
          `INSERT INTO timeline_runs (owner, run_id, started_at, anchor, ended) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (owner, run_id) DO UPDATE SET anchor = excluded.anchor, ended = excluded.ended`,
          [owner, o.run.runId, o.run.startedAt, o.run.anchor, o.run.ended ? 1 : 0],
        );
        return;
      case 'track': {
        const t = o.track;
        this.db.run(
          `INSERT INTO timeline_tracks (owner, run_id, track_id, ord, info, init_uri, discontinuity, first_start)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (owner, run_id, track_id) DO UPDATE SET info = excluded.info, init_uri = excluded.init_uri,
               discontinuity = excluded.discontinuity, first_start = excluded.first_start`,
          [
            owner,
            o.runId,
            t.trackId,
            t.ord,
            JSON.stringify(t.info),
            t.initUri,
            t.discontinuity,
            t.firstStart,
          ],
        );
        return;
      }
      case 'segment': {
        const s = o.segment;
        this.db.run(
          `INSERT OR REPLACE INTO timeline_segments (owner, run_id, track_id, number, seq, uri, start, duration, pdt, bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [owner, o.runId, o.trackId, s.number, s.seq, s.uri, s.start, s.duration, s.pdt, s.bytes],
        );
        return;
      }
      case 'drop-segment':
        this.db.run(
          'DELETE FROM timeline_segments WHERE owner = ? AND run_id = ? AND track_id = ? AND number = ?',
          [owner, o.key.runId, o.key.trackId, o.key.number],
        );
        return;
      case 'drop-run':
        for (const table of ['timeline_segments', 'timeline_tracks', 'timeline_runs'])
          this.db.run(`DELETE FROM ${table} WHERE owner = ? AND run_id = ?`, [owner, o.runId]);
        return;
    }
  }

  #delete(owner: string): void {
    for (const table of ['timeline_segments', 'timeline_tracks', 'timeline_runs'])
      this.db.run(`DELETE FROM ${table} WHERE owner = ?`, [owner]);
  }

  async delete(owner: string): Promise<void> {
    this.db.atomically(() => this.#delete(owner));
  }

  async load(owner: string): Promise<SavedRun[]> {
    const runs = new Map<string, SavedRun>();
    for (const r of this.db.all('SELECT * FROM timeline_runs WHERE owner = ? ORDER BY started_at, run_id', [
      owner,
    ])) {
      runs.set(str(r.run_id), {
        runId: str(r.run_id),
        startedAt: Number(r.started_at),
        anchor: numOrNull(r.anchor),
        ended: Number(r.ended) === 1,
        tracks: [],
      });
    }
    const tracks = new Map<string, SavedTrack>();
    for (const r of this.db.all('SELECT * FROM timeline_tracks WHERE owner = ? ORDER BY run_id, ord', [
      owner,
    ])) {
      const run = runs.get(str(r.run_id));
      if (!run) continue;
      const track: SavedTrack = {
        trackId: str(r.track_id),
        ord: Number(r.ord),
        info: JSON.parse(str(r.info)) as unknown,
        initUri: str(r.init_uri),
        discontinuity: Number(r.discontinuity),
        firstStart: numOrNull(r.first_start),
        segments: [],
      };
      run.tracks.push(track);
      tracks.set(`${run.runId}\u0000${track.trackId}`, track);
    }
    for (const r of this.db.all(
      'SELECT * FROM timeline_segments WHERE owner = ? ORDER BY run_id, track_id, number',
      [owner],
    )) {
      const segment: SavedSegment = {
        number: Number(r.number),
        seq: Number(r.seq),
        uri: str(r.uri),
        start: Number(r.start),
        duration: Number(r.duration),
        pdt: Number(r.pdt),
        bytes: Number(r.bytes),
      };
      tracks.get(`${str(r.run_id)}\u0000${str(r.track_id)}`)?.segments.push(segment);
    }
    return [...runs.values()];
  }

  async bytes(owner: string): Promise<number> {
    return this.db.count('SELECT COALESCE(SUM(bytes), 0) AS n FROM timeline_segments WHERE owner = ?', [
      owner,
    ]);
  }

  async owners(): Promise<string[]> {
    return this.db.all('SELECT DISTINCT owner FROM timeline_runs').map((r) => str(r.owner));
  }

  async outputStartedAt(channelId: string): Promise<number | undefined> {
    const row = this.db.get('SELECT started_at FROM channel_outputs WHERE channel_id = ?', [channelId]);
    return row ? Number(row.started_at) : undefined;
  }

  async setOutputStartedAt(channelId: string, startedAt: number | undefined): Promise<void> {
    if (startedAt === undefined) this.db.run('DELETE FROM channel_outputs WHERE channel_id = ?', [channelId]);
    else
      this.db.run(
        'INSERT INTO channel_outputs (channel_id, started_at) VALUES (?, ?) ON CONFLICT (channel_id) DO UPDATE SET started_at = excluded.started_at',
        [channelId, startedAt],
      );
  }
}
