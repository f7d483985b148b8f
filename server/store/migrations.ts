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
  {
    version: 3,
    name: 'durable segment index, asset ranges and publishing',
    sql: `
      CREATE TABLE timeline_runs (
        owner TEXT NOT NULL,
        run_id TEXT NOT NULL,
        started_at REAL NOT NULL,
        anchor REAL,
        ended INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (owner, run_id)
      );
      CREATE TABLE timeline_tracks (
        owner TEXT NOT NULL,
        run_id TEXT NOT NULL,
        track_id TEXT NOT NULL,
        ord INTEGER NOT NULL,
        info TEXT NOT NULL,
        init_uri TEXT NOT NULL,
        discontinuity INTEGER NOT NULL,
        first_start INTEGER,
        PRIMARY KEY (owner, run_id, track_id)
      );
      CREATE TABLE timeline_segments (
        owner TEXT NOT NULL,
        run_id TEXT NOT NULL,
        track_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        uri TEXT NOT NULL,
        start INTEGER NOT NULL,
        duration INTEGER NOT NULL,
        pdt REAL NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (owner, run_id, track_id, number)
      );
      CREATE TABLE channel_outputs (
        channel_id TEXT PRIMARY KEY,
        started_at REAL NOT NULL
      );
      ALTER TABLE assets ADD COLUMN kind TEXT NOT NULL DEFAULT 'program';
      ALTER TABLE assets ADD COLUMN published INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE assets ADD COLUMN status TEXT NOT NULL DEFAULT 'ready';
      ALTER TABLE assets ADD COLUMN range_start REAL;
      ALTER TABLE assets ADD COLUMN range_end REAL;
    `,
  },
  // Versions 20 and up: playback protection, console sessions, webhooks (issue 13).
  {
    version: 4,
    name: 'redundant ingest: failover, slate and failback settings',
    sql: `
      ALTER TABLE channels ADD COLUMN failover_after_ms INTEGER NOT NULL DEFAULT 1000;
      ALTER TABLE channels ADD COLUMN slate_after_ms INTEGER NOT NULL DEFAULT 2000;
      ALTER TABLE channels ADD COLUMN failback TEXT NOT NULL DEFAULT 'manual';
    `,
  },
  {
    version: 20,
    name: 'channel playback protection',
    sql: `ALTER TABLE channels ADD COLUMN playback TEXT NOT NULL DEFAULT 'public';`,
  },
  {
    version: 21,
    name: 'console sessions',
    sql: `
      CREATE TABLE console_sessions (
        id_hash TEXT PRIMARY KEY,
        admin_fingerprint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
    `,
  },
  {
    version: 22,
    name: 'webhooks and their deliveries',
    sql: `
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        response_status INTEGER,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        next_attempt_at TEXT
      );
      CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
      CREATE INDEX webhook_deliveries_state ON webhook_deliveries(state);
    `,
  },
  {
    version: 23,
    name: "assets keep their channel's playback access",
    sql: `
      ALTER TABLE assets ADD COLUMN playback TEXT;
      ALTER TABLE assets ADD COLUMN preview TEXT;
      UPDATE assets SET
        playback = (SELECT c.playback FROM channels c WHERE c.id = assets.channel_id),
        preview = (SELECT c.preview FROM channels c WHERE c.id = assets.channel_id);
    `,
  },
  // Versions 30 and up: RTMP and SRT ingest (issue 12).
  {
    version: 30,
    name: 'SRT ingest: a listener port and a latency per channel',
    sql: `
      ALTER TABLE channels ADD COLUMN srt_latency_ms INTEGER NOT NULL DEFAULT 120;
      ALTER TABLE channels ADD COLUMN srt_port INTEGER;
      CREATE UNIQUE INDEX channels_srt_port ON channels(srt_port) WHERE srt_port IS NOT NULL;
    `,
  },
  {
    version: 31,
    name: 'SRT ingest: a second listener port per channel for its backup input',
    sql: `
      ALTER TABLE channels ADD COLUMN srt_backup_port INTEGER;
      CREATE UNIQUE INDEX channels_srt_backup_port ON channels(srt_backup_port) WHERE srt_backup_port IS NOT NULL;
    `,
  },
  // Versions 40 and up: low latency (issue 11).
  {
    version: 40,
    name: 'channel latency: low (LL-HLS, LL-DASH) or standard',
    sql: `ALTER TABLE channels ADD COLUMN latency TEXT NOT NULL DEFAULT 'low';`,
  },
];
