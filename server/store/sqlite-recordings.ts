/* eslint-disable @typescript-eslint/require-await -- node:sqlite answers at once; the repositories' contract is async, and an error thrown here reaches the caller as a rejection. */
/** Programs and the assets they become, on the embedded database. */
import type { AssetKind, AssetStatus, ProgramState } from '../../lib/schemas.ts';
import type {
  AssetAccess,
  AssetRecord,
  AssetRepository,
  Page,
  ProgramRecord,
  ProgramRepository,
} from './repositories.ts';
import { str, strOrNull, SqliteTable, type Row, type SqliteDb } from './sqlite.ts';

function toProgram(r: Row): ProgramRecord {
  return {
    id: str(r.id),
    channelId: str(r.channel_id),
    name: str(r.name),
    archiveWindowMinutes: Number(r.archive_window_minutes),
    state: str(r.state) as ProgramState,
    startedAt: strOrNull(r.started_at),
    stoppedAt: strOrNull(r.stopped_at),
    assetId: strOrNull(r.asset_id),
    createdAt: str(r.created_at),
  };
}

const isoOrNull = (v: Row[string] | undefined): string | null =>
  v === null || v === undefined ? null : new Date(Number(v)).toISOString();

/** Null when the row has no copied settings (its channel was gone when they were copied). */
function toAccess(r: Row): AssetAccess | null {
  const playback = strOrNull(r.playback);
  const preview = strOrNull(r.preview);
  if (playback === null || preview === null) return null;
  return { playback: playback === 'token' ? 'token' : 'public', preview: JSON.parse(preview) as string[] };
}

function toAsset(r: Row): AssetRecord {
  return {
    id: str(r.id),
    programId: str(r.program_id),
    channelId: str(r.channel_id),
    name: str(r.name),
    kind: str(r.kind) as AssetKind,
    status: str(r.status) as AssetStatus,
    published: Number(r.published) === 1,
    durationSeconds: Number(r.duration_seconds),
    bytes: Number(r.bytes),
    rangeStart: isoOrNull(r.range_start),
    rangeEnd: isoOrNull(r.range_end),
    createdAt: str(r.created_at),
    access: toAccess(r),
  };
}

function insertAsset(db: SqliteDb, a: AssetRecord): void {
  db.run(
    `INSERT INTO assets (id, program_id, channel_id, name, kind, status, published, duration_seconds, bytes,
       range_start, range_end, created_at, playback, preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      a.id,
      a.programId,
      a.channelId,
      a.name,
      a.kind,
      a.status,
      a.published ? 1 : 0,
      a.durationSeconds,
      a.bytes,
      a.rangeStart === null ? null : Date.parse(a.rangeStart),
      a.rangeEnd === null ? null : Date.parse(a.rangeEnd),
      a.createdAt,
      a.access?.playback ?? null,
      a.access ? JSON.stringify(a.access.preview) : null,
    ],
  );
}

function updateProgram(db: SqliteDb, p: ProgramRecord): void {
  db.run(
    'UPDATE programs SET name = ?, state = ?, started_at = ?, stopped_at = ?, asset_id = ? WHERE id = ?',
    [p.name, p.state, p.startedAt, p.stoppedAt, p.assetId, p.id],
  );
}

export class SqlitePrograms extends SqliteTable implements ProgramRepository {
  async insert(p: ProgramRecord): Promise<void> {
    this.db.run(
      `INSERT INTO programs (id, channel_id, name, archive_window_minutes, state, started_at, stopped_at, asset_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        p.id,
        p.channelId,
        p.name,
        p.archiveWindowMinutes,
        p.state,
        p.startedAt,
        p.stoppedAt,
        p.assetId,
        p.createdAt,
      ],
    );
  }

  async update(p: ProgramRecord): Promise<void> {
    updateProgram(this.db, p);
  }

  async finish(p: ProgramRecord, asset: AssetRecord): Promise<void> {
    this.db.atomically(() => {
      insertAsset(this.db, asset);
      updateProgram(this.db, p);
    });
  }

  async get(id: string): Promise<ProgramRecord | undefined> {
    const row = this.db.get('SELECT * FROM programs WHERE id = ?', [id]);
    return row ? toProgram(row) : undefined;
  }

  async list(channelId: string, limit: number, offset: number): Promise<Page<ProgramRecord>> {
    const q = { table: 'programs', where: 'channel_id = ?', params: [channelId], order: 'created_at, id' };
    return this.db.page(q, limit, offset, toProgram);
  }

  async ofChannel(channelId: string, state?: ProgramState): Promise<ProgramRecord[]> {
    const rows = state
      ? this.db.all('SELECT * FROM programs WHERE channel_id = ? AND state = ? ORDER BY created_at', [
          channelId,
          state,
        ])
      : this.db.all('SELECT * FROM programs WHERE channel_id = ? ORDER BY created_at', [channelId]);
    return rows.map(toProgram);
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = this.db.all('SELECT state, COUNT(*) AS n FROM programs GROUP BY state');
    return Object.fromEntries(rows.map((r) => [str(r.state), Number(r.n)]));
  }

  async delete(id: string): Promise<void> {
    this.db.run('DELETE FROM programs WHERE id = ?', [id]);
  }
}

export class SqliteAssets extends SqliteTable implements AssetRepository {
  async insert(a: AssetRecord): Promise<void> {
    insertAsset(this.db, a);
  }

  async update(a: AssetRecord): Promise<void> {
    this.db.run(
      'UPDATE assets SET name = ?, status = ?, published = ?, duration_seconds = ?, bytes = ? WHERE id = ?',
      [a.name, a.status, a.published ? 1 : 0, a.durationSeconds, a.bytes, a.id],
    );
  }

  async get(id: string): Promise<AssetRecord | undefined> {
    const row = this.db.get('SELECT * FROM assets WHERE id = ?', [id]);
    return row ? toAsset(row) : undefined;
  }

  async list(limit: number, offset: number): Promise<Page<AssetRecord>> {
    return this.db.page({ table: 'assets', order: 'created_at, id' }, limit, offset, toAsset);
  }

  async all(): Promise<AssetRecord[]> {
    return this.db.all('SELECT * FROM assets ORDER BY created_at, id').map(toAsset);
  }

  async ofProgram(programId: string): Promise<AssetRecord[]> {
    return this.db
      .all('SELECT * FROM assets WHERE program_id = ? ORDER BY created_at, id', [programId])
      .map(toAsset);
  }

  async delete(id: string): Promise<void> {
    this.db.run('DELETE FROM assets WHERE id = ?', [id]);
  }
}
