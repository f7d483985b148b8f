/* eslint-disable @typescript-eslint/require-await -- node:sqlite answers at once; the repositories' contract is async, and an error thrown here reaches the caller as a rejection. */
/**
 * Opens the store. The embedded default is one node:sqlite file in the data
 * directory; callers see only the repositories (./repositories.ts).
 */
import { SqliteChannels, SqliteEvents } from './sqlite-channels.ts';
import { SqliteAssets, SqlitePrograms } from './sqlite-recordings.ts';
import { SqliteTimelines } from './sqlite-timelines.ts';
import { SqliteSessions, SqliteWebhooks } from './sqlite-webhooks.ts';
import { SqliteDb } from './sqlite.ts';
import type { Store } from './repositories.ts';

export type * from './repositories.ts';

export function openSqliteStore(dataDir: string): Store {
  const db = new SqliteDb(dataDir);
  return {
    channels: new SqliteChannels(db),
    programs: new SqlitePrograms(db),
    assets: new SqliteAssets(db),
    timelines: new SqliteTimelines(db),
    events: new SqliteEvents(db),
    sessions: new SqliteSessions(db),
    webhooks: new SqliteWebhooks(db),
    schemaVersion: async () => db.schemaVersion(),
    close: async () => db.close(),
  };
}
