/** Migrations on a database made before them: the rows already there get what the new columns mean. */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteStore } from '../../server/store/store.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'onair-migrations-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `sql` on the database file directly, as an older onair would have left it. */
function exec(sql: string): void {
  const db = new DatabaseSync(path.join(dir, 'onair.db'));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

void describe('store migrations', () => {
  void test("assets made before they kept their access get their channel's; with the channel gone, none", async () => {
    await openSqliteStore(dir).close();
    const at = new Date().toISOString();
    exec(`
      ALTER TABLE assets DROP COLUMN playback;
      ALTER TABLE assets DROP COLUMN preview;
      DELETE FROM schema_migrations WHERE version = 23;
      INSERT INTO channels (id, name, state, mode, ladder, segment_seconds, stream_key, preview, playback,
        created_at, updated_at)
        VALUES ('ch_guarded', 'guarded', 'idle', 'passthrough', '[]', 2, 'k', '["10.0.0.0/8"]', 'token', '${at}', '${at}');
      INSERT INTO assets (id, program_id, channel_id, name, duration_seconds, bytes, created_at)
        VALUES ('as_kept', 'pg_1', 'ch_guarded', 'kept', 1, 1, '${at}'),
               ('as_orphan', 'pg_2', 'ch_deleted', 'orphan', 1, 1, '${at}');
    `);
    const store = openSqliteStore(dir);
    try {
      assert.deepEqual((await store.assets.get('as_kept'))?.access, {
        playback: 'token',
        preview: ['10.0.0.0/8'],
      });
      assert.equal((await store.assets.get('as_orphan'))?.access, null);
    } finally {
      await store.close();
    }
  });
});
