/**
 * SQLite persistence (Node's built-in node:sqlite: no native build). The store
 * knows rows, not rules: state rules live in server/core.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type {
  Asset,
  AssetKind,
  AssetStatus,
  Channel,
  ChannelMode,
  ChannelState,
  DeliveryState,
  Program,
  ProgramState,
  Webhook,
  WebhookDelivery,
  WebhookSubscription,
} from '../../lib/schemas.ts';
import type { WebhookEventType } from '../../lib/events.ts';
import type { LadderName } from '../../lib/ladders.ts';
import { MIGRATIONS } from './migrations.ts';

/** Rows as the API shows them, less what is computed at read time (urls, live). */
export type ChannelRecord = Omit<Channel, 'urls' | 'live' | 'bytes'>;
export type ProgramRecord = Program;
export type AssetRecord = Asset;

/** A webhook as stored: the API adds its last delivery. */
export type WebhookRecord = Omit<Webhook, 'lastDelivery'>;
export type DeliveryRecord = WebhookDelivery;

export interface ChannelEventRecord {
  id: number;
  channelId: string;
  at: string;
  type: string;
  message: string;
}

type Row = Record<string, SQLInputValue>;

const str = (v: SQLInputValue | undefined): string =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'bigint'
      ? v.toString()
      : v instanceof Uint8Array
        ? Buffer.from(v).toString('utf8')
        : '';
const strOrNull = (v: SQLInputValue | undefined): string | null =>
  v === null || v === undefined ? null : str(v);

function toChannel(r: Row): ChannelRecord {
  return {
    id: str(r.id),
    name: str(r.name),
    description: str(r.description),
    state: str(r.state) as ChannelState,
    mode: str(r.mode) as ChannelMode,
    ladder: str(r.ladder) as LadderName,
    segmentSeconds: Number(r.segment_seconds),
    streamKey: str(r.stream_key),
    ingest: JSON.parse(str(r.ingest)) as string[],
    preview: JSON.parse(str(r.preview)) as string[],
    playback: str(r.playback) === 'token' ? 'token' : 'public',
    latency: str(r.latency) === 'standard' ? 'standard' : 'low',
    srtLatencyMs: Number(r.srt_latency_ms ?? 120),
    srtPort: r.srt_port === null || r.srt_port === undefined ? null : Number(r.srt_port),
    srtBackupPort:
      r.srt_backup_port === null || r.srt_backup_port === undefined ? null : Number(r.srt_backup_port),
    failoverAfterMs: Number(r.failover_after_ms),
    slateAfterMs: Number(r.slate_after_ms),
    failback: str(r.failback) === 'auto' ? 'auto' : 'manual',
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

function toWebhook(r: Row): WebhookRecord {
  return {
    id: str(r.id),
    url: str(r.url),
    events: JSON.parse(str(r.events)) as WebhookSubscription[],
    description: str(r.description),
    secret: str(r.secret),
    createdAt: str(r.created_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    id: Number(r.id),
    webhookId: str(r.webhook_id),
    eventId: str(r.event_id),
    eventType: str(r.event_type) as WebhookEventType,
    state: str(r.state) as DeliveryState,
    attempts: Number(r.attempts),
    responseStatus:
      r.response_status === null || r.response_status === undefined ? null : Number(r.response_status),
    error: strOrNull(r.error),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    nextAttemptAt: strOrNull(r.next_attempt_at),
  };
}

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

const isoOrNull = (v: SQLInputValue | undefined): string | null =>
  v === null || v === undefined ? null : new Date(Number(v)).toISOString();

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
  };
}

// ── the durable segment index ────────────────────────────────────────────
// A timeline belongs to an owner: a channel (its live window and running
// programs, files under media/<channelId>/live) or an asset (media/assets/<id>).

export interface SavedSegment {
  number: number;
  seq: number;
  uri: string;
  start: number;
  duration: number;
  pdt: number;
  bytes: number;
}

export interface SavedTrack {
  trackId: string;
  ord: number;
  /** The packager's track info, as JSON. */
  info: unknown;
  initUri: string;
  discontinuity: number;
  firstStart: number | null;
  segments: SavedSegment[];
}

export interface SavedRun {
  runId: string;
  startedAt: number;
  anchor: number | null;
  ended: boolean;
  tracks: SavedTrack[];
}

export type SegmentKey = { runId: string; trackId: string; number: number };

/** The mutable columns of a channel row, in the order the statements list them. */
function channelColumns(c: ChannelRecord): SQLInputValue[] {
  return [
    c.name,
    c.description,
    c.state,
    c.mode,
    c.ladder,
    c.segmentSeconds,
    c.streamKey,
    JSON.stringify(c.ingest),
    JSON.stringify(c.preview),
    c.playback,
    c.srtLatencyMs,
    c.srtPort,
    c.srtBackupPort,
    c.failoverAfterMs,
    c.slateAfterMs,
    c.failback,
    c.latency,
    c.updatedAt,
  ];
}

export class Store {
  readonly #db: DatabaseSync;
  #closed = false;
  /** Prepared once, reused: the SQL texts are a fixed set. */
  readonly #statements = new Map<string, StatementSync>();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#db = new DatabaseSync(path.join(dataDir, 'onair.db'));
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.#migrate();
  }

  #migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(
      (this.#stmt('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.transaction(() => {
        this.#db.exec(m.sql);
        this.#stmt('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          new Date().toISOString(),
        );
      });
    }
  }

  #stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  schemaVersion(): number {
    const row = this.#stmt('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
    return Number(row?.v ?? 0);
  }

  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // ── channels ──────────────────────────────────────────────────────────
  insertChannel(c: ChannelRecord): void {
    this.#stmt(
      `INSERT INTO channels (name, description, state, mode, ladder, segment_seconds, stream_key, ingest, preview, playback,
           srt_latency_ms, srt_port, srt_backup_port, failover_after_ms, slate_after_ms, failback, latency, updated_at, id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...channelColumns(c), c.id, c.createdAt);
  }

  updateChannel(c: ChannelRecord): void {
    this.#stmt(
      `UPDATE channels SET name = ?, description = ?, state = ?, mode = ?, ladder = ?, segment_seconds = ?,
           stream_key = ?, ingest = ?, preview = ?, playback = ?, srt_latency_ms = ?, srt_port = ?, srt_backup_port = ?,
           failover_after_ms = ?, slate_after_ms = ?, failback = ?, latency = ?, updated_at = ? WHERE id = ?`,
    ).run(...channelColumns(c), c.id);
  }

  getChannel(id: string): ChannelRecord | undefined {
    const row = this.#stmt('SELECT * FROM channels WHERE id = ?').get(id) as Row | undefined;
    return row ? toChannel(row) : undefined;
  }

  listChannels(limit: number, offset: number): { items: ChannelRecord[]; total: number } {
    const rows = this.#stmt('SELECT * FROM channels ORDER BY created_at, id LIMIT ? OFFSET ?').all(
      limit,
      offset,
    ) as Row[];
    const total = Number((this.#stmt('SELECT COUNT(*) AS n FROM channels').get() as Row).n);
    return { items: rows.map(toChannel), total };
  }

  allChannels(): ChannelRecord[] {
    return (this.#stmt('SELECT * FROM channels ORDER BY created_at, id').all() as Row[]).map(toChannel);
  }

  deleteChannel(id: string): void {
    this.#stmt('DELETE FROM channels WHERE id = ?').run(id);
  }

  /** SRT ports given to channels, in use or not. */
  usedSrtPorts(): Set<number> {
    const rows = this.#stmt(
      'SELECT srt_port AS p FROM channels WHERE srt_port IS NOT NULL UNION SELECT srt_backup_port FROM channels WHERE srt_backup_port IS NOT NULL',
    ).all() as Row[];
    return new Set(rows.map((r) => Number(r.p)));
  }

  countChannels(): number {
    return Number((this.#stmt('SELECT COUNT(*) AS n FROM channels').get() as Row).n);
  }

  /** Channels that hold media resources: starting, running or stopping. */
  countActiveChannels(): number {
    return Number((this.#stmt("SELECT COUNT(*) AS n FROM channels WHERE state != 'stopped'").get() as Row).n);
  }

  // ── programs ──────────────────────────────────────────────────────────
  insertProgram(p: ProgramRecord): void {
    this.#stmt(
      `INSERT INTO programs (id, channel_id, name, archive_window_minutes, state, started_at, stopped_at, asset_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      p.id,
      p.channelId,
      p.name,
      p.archiveWindowMinutes,
      p.state,
      p.startedAt,
      p.stoppedAt,
      p.assetId,
      p.createdAt,
    );
  }

  updateProgram(p: ProgramRecord): void {
    this.#stmt(
      'UPDATE programs SET name = ?, state = ?, started_at = ?, stopped_at = ?, asset_id = ? WHERE id = ?',
    ).run(p.name, p.state, p.startedAt, p.stoppedAt, p.assetId, p.id);
  }

  getProgram(id: string): ProgramRecord | undefined {
    const row = this.#stmt('SELECT * FROM programs WHERE id = ?').get(id) as Row | undefined;
    return row ? toProgram(row) : undefined;
  }

  listPrograms(channelId: string, limit: number, offset: number): { items: ProgramRecord[]; total: number } {
    const rows = this.#stmt(
      'SELECT * FROM programs WHERE channel_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?',
    ).all(channelId, limit, offset) as Row[];
    const total = Number(
      (this.#stmt('SELECT COUNT(*) AS n FROM programs WHERE channel_id = ?').get(channelId) as Row).n,
    );
    return { items: rows.map(toProgram), total };
  }

  programsOfChannel(channelId: string, state?: ProgramState): ProgramRecord[] {
    const rows = state
      ? this.#stmt('SELECT * FROM programs WHERE channel_id = ? AND state = ? ORDER BY created_at').all(
          channelId,
          state,
        )
      : this.#stmt('SELECT * FROM programs WHERE channel_id = ? ORDER BY created_at').all(channelId);
    return (rows as Row[]).map(toProgram);
  }

  countProgramsByState(): Record<string, number> {
    const rows = this.#stmt('SELECT state, COUNT(*) AS n FROM programs GROUP BY state').all() as Row[];
    return Object.fromEntries(rows.map((r) => [str(r.state), Number(r.n)]));
  }

  deleteProgram(id: string): void {
    this.#stmt('DELETE FROM programs WHERE id = ?').run(id);
  }

  // ── assets ────────────────────────────────────────────────────────────
  insertAsset(a: AssetRecord): void {
    this.#stmt(
      `INSERT INTO assets (id, program_id, channel_id, name, kind, status, published, duration_seconds, bytes,
         range_start, range_end, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
  }

  updateAsset(a: AssetRecord): void {
    this.#stmt(
      'UPDATE assets SET name = ?, status = ?, published = ?, duration_seconds = ?, bytes = ? WHERE id = ?',
    ).run(a.name, a.status, a.published ? 1 : 0, a.durationSeconds, a.bytes, a.id);
  }

  allAssets(): AssetRecord[] {
    return (this.#stmt('SELECT * FROM assets ORDER BY created_at, id').all() as Row[]).map(toAsset);
  }

  assetsOfProgram(programId: string): AssetRecord[] {
    return (
      this.#stmt('SELECT * FROM assets WHERE program_id = ? ORDER BY created_at, id').all(programId) as Row[]
    ).map(toAsset);
  }

  getAsset(id: string): AssetRecord | undefined {
    const row = this.#stmt('SELECT * FROM assets WHERE id = ?').get(id) as Row | undefined;
    return row ? toAsset(row) : undefined;
  }

  listAssets(limit: number, offset: number): { items: AssetRecord[]; total: number } {
    const rows = this.#stmt('SELECT * FROM assets ORDER BY created_at, id LIMIT ? OFFSET ?').all(
      limit,
      offset,
    ) as Row[];
    const total = Number((this.#stmt('SELECT COUNT(*) AS n FROM assets').get() as Row).n);
    return { items: rows.map(toAsset), total };
  }

  deleteAsset(id: string): void {
    this.#stmt('DELETE FROM assets WHERE id = ?').run(id);
  }

  // ── the durable segment index ─────────────────────────────────────────
  saveRun(owner: string, run: Omit<SavedRun, 'tracks'>): void {
    this.#stmt(
      `INSERT INTO timeline_runs (owner, run_id, started_at, anchor, ended) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (owner, run_id) DO UPDATE SET anchor = excluded.anchor, ended = excluded.ended`,
    ).run(owner, run.runId, run.startedAt, run.anchor, run.ended ? 1 : 0);
  }

  saveTrack(owner: string, runId: string, t: Omit<SavedTrack, 'segments'>): void {
    this.#stmt(
      `INSERT INTO timeline_tracks (owner, run_id, track_id, ord, info, init_uri, discontinuity, first_start)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (owner, run_id, track_id) DO UPDATE SET info = excluded.info, init_uri = excluded.init_uri,
           discontinuity = excluded.discontinuity, first_start = excluded.first_start`,
    ).run(owner, runId, t.trackId, t.ord, JSON.stringify(t.info), t.initUri, t.discontinuity, t.firstStart);
  }

  saveSegment(owner: string, runId: string, trackId: string, seg: SavedSegment): void {
    this.#stmt(
      `INSERT OR REPLACE INTO timeline_segments (owner, run_id, track_id, number, seq, uri, start, duration, pdt, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(owner, runId, trackId, seg.number, seg.seq, seg.uri, seg.start, seg.duration, seg.pdt, seg.bytes);
  }

  deleteSegment(owner: string, key: SegmentKey): void {
    this.#stmt(
      'DELETE FROM timeline_segments WHERE owner = ? AND run_id = ? AND track_id = ? AND number = ?',
    ).run(owner, key.runId, key.trackId, key.number);
  }

  deleteRun(owner: string, runId: string): void {
    this.#stmt('DELETE FROM timeline_segments WHERE owner = ? AND run_id = ?').run(owner, runId);
    this.#stmt('DELETE FROM timeline_tracks WHERE owner = ? AND run_id = ?').run(owner, runId);
    this.#stmt('DELETE FROM timeline_runs WHERE owner = ? AND run_id = ?').run(owner, runId);
  }

  deleteTimeline(owner: string): void {
    this.#stmt('DELETE FROM timeline_segments WHERE owner = ?').run(owner);
    this.#stmt('DELETE FROM timeline_tracks WHERE owner = ?').run(owner);
    this.#stmt('DELETE FROM timeline_runs WHERE owner = ?').run(owner);
  }

  /** A whole timeline, runs in start order, tracks in declaration order, segments by number. */
  loadTimeline(owner: string): SavedRun[] {
    const runs = new Map<string, SavedRun>();
    for (const r of this.#stmt('SELECT * FROM timeline_runs WHERE owner = ? ORDER BY started_at, run_id').all(
      owner,
    ) as Row[]) {
      runs.set(str(r.run_id), {
        runId: str(r.run_id),
        startedAt: Number(r.started_at),
        anchor: r.anchor === null || r.anchor === undefined ? null : Number(r.anchor),
        ended: Number(r.ended) === 1,
        tracks: [],
      });
    }
    const tracks = new Map<string, SavedTrack>();
    for (const r of this.#stmt('SELECT * FROM timeline_tracks WHERE owner = ? ORDER BY run_id, ord').all(
      owner,
    ) as Row[]) {
      const run = runs.get(str(r.run_id));
      if (!run) continue;
      const track: SavedTrack = {
        trackId: str(r.track_id),
        ord: Number(r.ord),
        info: JSON.parse(str(r.info)) as unknown,
        initUri: str(r.init_uri),
        discontinuity: Number(r.discontinuity),
        firstStart: r.first_start === null || r.first_start === undefined ? null : Number(r.first_start),
        segments: [],
      };
      run.tracks.push(track);
      tracks.set(`${run.runId}\u0000${track.trackId}`, track);
    }
    for (const r of this.#stmt(
      'SELECT * FROM timeline_segments WHERE owner = ? ORDER BY run_id, track_id, number',
    ).all(owner) as Row[]) {
      tracks.get(`${str(r.run_id)}\u0000${str(r.track_id)}`)?.segments.push({
        number: Number(r.number),
        seq: Number(r.seq),
        uri: str(r.uri),
        start: Number(r.start),
        duration: Number(r.duration),
        pdt: Number(r.pdt),
        bytes: Number(r.bytes),
      });
    }
    return [...runs.values()];
  }

  /** Bytes of the segments an owner's timeline lists. */
  timelineBytes(owner: string): number {
    const row = this.#stmt('SELECT COALESCE(SUM(bytes), 0) AS n FROM timeline_segments WHERE owner = ?').get(
      owner,
    ) as Row;
    return Number(row.n);
  }

  /** The owners that have a saved timeline. */
  timelineOwners(): string[] {
    return (this.#stmt('SELECT DISTINCT owner FROM timeline_runs').all() as Row[]).map((r) => str(r.owner));
  }

  /** The epoch of a channel's output (DASH availabilityStartTime), kept across restarts. */
  outputStartedAt(channelId: string): number | undefined {
    const row = this.#stmt('SELECT started_at FROM channel_outputs WHERE channel_id = ?').get(channelId) as
      Row | undefined;
    return row ? Number(row.started_at) : undefined;
  }

  setOutputStartedAt(channelId: string, startedAt: number | undefined): void {
    if (startedAt === undefined)
      this.#stmt('DELETE FROM channel_outputs WHERE channel_id = ?').run(channelId);
    else
      this.#stmt(
        'INSERT INTO channel_outputs (channel_id, started_at) VALUES (?, ?) ON CONFLICT (channel_id) DO UPDATE SET started_at = excluded.started_at',
      ).run(channelId, startedAt);
  }

  // ── events ────────────────────────────────────────────────────────────
  insertEvent(channelId: string, type: string, message: string, at = new Date().toISOString()): void {
    this.#stmt('INSERT INTO channel_events (channel_id, at, type, message) VALUES (?, ?, ?, ?)').run(
      channelId,
      at,
      type,
      message,
    );
  }

  listEvents(
    channelId: string,
    limit: number,
    offset: number,
  ): { items: ChannelEventRecord[]; total: number } {
    const rows = this.#stmt(
      'SELECT * FROM channel_events WHERE channel_id = ? ORDER BY id DESC LIMIT ? OFFSET ?',
    ).all(channelId, limit, offset) as Row[];
    const total = Number(
      (this.#stmt('SELECT COUNT(*) AS n FROM channel_events WHERE channel_id = ?').get(channelId) as Row).n,
    );
    return {
      items: rows.map((r) => ({
        id: Number(r.id),
        channelId: str(r.channel_id),
        at: str(r.at),
        type: str(r.type),
        message: str(r.message),
      })),
      total,
    };
  }

  clearEvents(channelId: string): void {
    this.#stmt('DELETE FROM channel_events WHERE channel_id = ?').run(channelId);
  }

  // ── console sessions ──────────────────────────────────────────────────
  insertSession(idHash: string, adminFingerprint: string, createdAt: string, expiresAt: number): void {
    this.#stmt(
      'INSERT INTO console_sessions (id_hash, admin_fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ).run(idHash, adminFingerprint, createdAt, expiresAt);
  }

  /** The session's expiry (Unix seconds) if it exists for this admin token. */
  sessionExpiry(idHash: string, adminFingerprint: string): number | undefined {
    const row = this.#stmt(
      'SELECT expires_at FROM console_sessions WHERE id_hash = ? AND admin_fingerprint = ?',
    ).get(idHash, adminFingerprint) as Row | undefined;
    return row ? Number(row.expires_at) : undefined;
  }

  deleteSession(idHash: string): void {
    this.#stmt('DELETE FROM console_sessions WHERE id_hash = ?').run(idHash);
  }

  /** Drops expired sessions and those of another admin token; returns how many are left. */
  pruneSessions(adminFingerprint: string, now: number): number {
    this.#stmt('DELETE FROM console_sessions WHERE expires_at <= ? OR admin_fingerprint != ?').run(
      now,
      adminFingerprint,
    );
    return Number((this.#stmt('SELECT COUNT(*) AS n FROM console_sessions').get() as Row).n);
  }

  /** Keeps the newest `keep` sessions. */
  trimSessions(keep: number): void {
    this.#stmt(
      'DELETE FROM console_sessions WHERE id_hash NOT IN (SELECT id_hash FROM console_sessions ORDER BY expires_at DESC LIMIT ?)',
    ).run(keep);
  }

  // ── webhooks ──────────────────────────────────────────────────────────
  insertWebhook(w: WebhookRecord): void {
    this.#stmt(
      'INSERT INTO webhooks (id, url, events, description, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(w.id, w.url, JSON.stringify(w.events), w.description, w.secret, w.createdAt);
  }

  getWebhook(id: string): WebhookRecord | undefined {
    const row = this.#stmt('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
    return row ? toWebhook(row) : undefined;
  }

  allWebhooks(): WebhookRecord[] {
    return (this.#stmt('SELECT * FROM webhooks ORDER BY created_at, id').all() as Row[]).map(toWebhook);
  }

  deleteWebhook(id: string): void {
    this.#stmt('DELETE FROM webhooks WHERE id = ?').run(id);
  }

  /** Records a delivery to make (state pending) and returns its id. */
  insertDelivery(d: Omit<DeliveryRecord, 'id'>, payload: string): number {
    const r = this.#stmt(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, state, attempts, response_status, error, created_at, updated_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      d.webhookId,
      d.eventId,
      d.eventType,
      payload,
      d.state,
      d.attempts,
      d.responseStatus,
      d.error,
      d.createdAt,
      d.updatedAt,
      d.nextAttemptAt,
    );
    return Number(r.lastInsertRowid);
  }

  updateDelivery(d: DeliveryRecord): void {
    this.#stmt(
      `UPDATE webhook_deliveries SET state = ?, attempts = ?, response_status = ?, error = ?, updated_at = ?, next_attempt_at = ?
         WHERE id = ?`,
    ).run(d.state, d.attempts, d.responseStatus, d.error, d.updatedAt, d.nextAttemptAt, d.id);
  }

  listDeliveries(
    webhookId: string,
    limit: number,
    offset: number,
  ): { items: DeliveryRecord[]; total: number } {
    const rows = this.#stmt(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ? OFFSET ?',
    ).all(webhookId, limit, offset) as Row[];
    const total = Number(
      (this.#stmt('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?').get(webhookId) as Row)
        .n,
    );
    return { items: rows.map(toDelivery), total };
  }

  lastDelivery(webhookId: string): DeliveryRecord | undefined {
    const row = this.#stmt(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 1',
    ).get(webhookId) as Row | undefined;
    return row ? toDelivery(row) : undefined;
  }

  /** Deliveries still to make (after a restart), oldest first, with their bodies. */
  pendingDeliveries(): { delivery: DeliveryRecord; payload: string }[] {
    const rows = this.#stmt(
      "SELECT * FROM webhook_deliveries WHERE state = 'pending' ORDER BY id",
    ).all() as Row[];
    return rows.map((r) => ({ delivery: toDelivery(r), payload: str(r.payload) }));
  }

  /** Keeps the newest `keep` deliveries of a webhook (the history is for looking at, not an archive). */
  trimDeliveries(webhookId: string, keep: number): void {
    this.#stmt(
      `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND state != 'pending' AND id NOT IN
         (SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?)`,
    ).run(webhookId, webhookId, keep);
  }
}
