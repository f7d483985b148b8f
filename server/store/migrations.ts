/** Versioned schema migrations. Append only: never edit one that has shipped. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'channels, programs, assets',
    sql: `
      CREATE TABLE channels (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        mode TEXT NOT NULL,
        ladder TEXT NOT NULL,
        segment_seconds INTEGER NOT NULL,
        stream_key TEXT NOT NULL,
        ingest TEXT NOT NULL DEFAULT '[]',
        preview TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE programs (
        id TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        archive_window_minutes INTEGER NOT NULL,
        state TEXT NOT NULL,
        started_at TEXT,
        stopped_at TEXT,
        asset_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX programs_channel ON programs(channel_id, created_at);
      CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        program_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        name TEXT NOT NULL,
        duration_seconds REAL NOT NULL,
        bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'channel events',
    sql: `
      CREATE TABLE channel_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX channel_events_channel ON channel_events(channel_id, id);
    `,
  },
];
