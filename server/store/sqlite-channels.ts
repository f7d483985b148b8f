/* eslint-disable @typescript-eslint/require-await -- node:sqlite answers at once; the repositories' contract is async, and an error thrown here reaches the caller as a rejection. */
/** Channels and their event log, on the embedded database. */
import type { SQLInputValue } from 'node:sqlite';
import type { ChannelMode, ChannelState } from '../../lib/schemas.ts';
import type { LadderName } from '../../lib/ladders.ts';
import type {
  ChannelEventRecord,
  ChannelRecord,
  ChannelRepository,
  EventRepository,
  Page,
} from './repositories.ts';
import { numOrNull, str, SqliteTable, type Row } from './sqlite.ts';

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
    srtPort: numOrNull(r.srt_port),
    srtBackupPort: numOrNull(r.srt_backup_port),
    failoverAfterMs: Number(r.failover_after_ms),
    slateAfterMs: Number(r.slate_after_ms),
    failback: str(r.failback) === 'auto' ? 'auto' : 'manual',
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

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

export class SqliteChannels extends SqliteTable implements ChannelRepository {
  async insert(c: ChannelRecord): Promise<void> {
    this.db.run(
      `INSERT INTO channels (name, description, state, mode, ladder, segment_seconds, stream_key, ingest, preview, playback,
           srt_latency_ms, srt_port, srt_backup_port, failover_after_ms, slate_after_ms, failback, latency, updated_at, id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...channelColumns(c), c.id, c.createdAt],
    );
  }

  async update(c: ChannelRecord): Promise<void> {
    this.db.run(
      `UPDATE channels SET name = ?, description = ?, state = ?, mode = ?, ladder = ?, segment_seconds = ?,
           stream_key = ?, ingest = ?, preview = ?, playback = ?, srt_latency_ms = ?, srt_port = ?, srt_backup_port = ?,
           failover_after_ms = ?, slate_after_ms = ?, failback = ?, latency = ?, updated_at = ? WHERE id = ?`,
      [...channelColumns(c), c.id],
    );
  }

  async get(id: string): Promise<ChannelRecord | undefined> {
    const row = this.db.get('SELECT * FROM channels WHERE id = ?', [id]);
    return row ? toChannel(row) : undefined;
  }

  async list(limit: number, offset: number): Promise<Page<ChannelRecord>> {
    return this.db.page({ table: 'channels', order: 'created_at, id' }, limit, offset, toChannel);
  }

  async all(): Promise<ChannelRecord[]> {
    return this.db.all('SELECT * FROM channels ORDER BY created_at, id').map(toChannel);
  }

  async delete(id: string): Promise<void> {
    this.db.run('DELETE FROM channels WHERE id = ?', [id]);
  }

  async usedSrtPorts(): Promise<Set<number>> {
    const rows = this.db.all(
      'SELECT srt_port AS p FROM channels WHERE srt_port IS NOT NULL UNION SELECT srt_backup_port FROM channels WHERE srt_backup_port IS NOT NULL',
    );
    return new Set(rows.map((r) => Number(r.p)));
  }

  async count(): Promise<number> {
    return this.db.count('SELECT COUNT(*) AS n FROM channels');
  }

  async countActive(): Promise<number> {
    return this.db.count("SELECT COUNT(*) AS n FROM channels WHERE state != 'stopped'");
  }
}

export class SqliteEvents extends SqliteTable implements EventRepository {
  async insert(
    channelId: string,
    type: string,
    message: string,
    at = new Date().toISOString(),
  ): Promise<void> {
    this.db.run('INSERT INTO channel_events (channel_id, at, type, message) VALUES (?, ?, ?, ?)', [
      channelId,
      at,
      type,
      message,
    ]);
  }

  async list(channelId: string, limit: number, offset: number): Promise<Page<ChannelEventRecord>> {
    const q = { table: 'channel_events', where: 'channel_id = ?', params: [channelId], order: 'id DESC' };
    return this.db.page(q, limit, offset, (r) => ({
      id: Number(r.id),
      channelId: str(r.channel_id),
      at: str(r.at),
      type: str(r.type),
      message: str(r.message),
    }));
  }

  async clear(channelId: string): Promise<void> {
    this.db.run('DELETE FROM channel_events WHERE channel_id = ?', [channelId]);
  }
}
