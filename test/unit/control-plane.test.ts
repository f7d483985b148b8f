/** The state rules, directly against ControlPlane with a real Store on a temporary dir and the IdleRuntime. */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_STATUS, OnairError, type ErrorCode } from '../../lib/errors.ts';
import { MAX_RUNNING_PROGRAMS } from '../../lib/schemas.ts';
import { ControlPlane } from '../../server/core/control-plane.ts';
import { IdleRuntime } from '../../server/core/runtime.ts';
import { createLogger } from '../../server/log.ts';
import {
  openSqliteStore,
  type ChannelRecord,
  type ProgramRecord,
  type Store,
} from '../../server/store/store.ts';
import { assertChannelDefaults } from '../helpers/channel-defaults.ts';

let dir: string;
let store: Store;
let cp: ControlPlane;
let runtime: RecordingRuntime;

/** The IdleRuntime, recording what the control plane asked of it. */
class RecordingRuntime extends IdleRuntime {
  calls: string[] = [];
  failStart = false;
  override startChannel(): Promise<void> {
    this.calls.push('startChannel');
    return this.failStart ? Promise.reject(new Error('no ffmpeg')) : Promise.resolve();
  }
  override stopChannel(): Promise<void> {
    this.calls.push('stopChannel');
    return Promise.resolve();
  }
  override resetChannel(): Promise<void> {
    this.calls.push('resetChannel');
    return Promise.resolve();
  }
  override deleteChannel(): Promise<void> {
    this.calls.push('deleteChannel');
    return Promise.resolve();
  }
}

function open(): void {
  store = openSqliteStore(dir);
  runtime = new RecordingRuntime();
  cp = new ControlPlane({ store, runtime, log: createLogger('silent') });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'onair-unit-'));
  open();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts `p` rejects with an OnairError with `code` (and its fixed status), naming `field` when given. */
async function rejectsCode(p: Promise<unknown>, code: ErrorCode, field?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OnairError, `not an OnairError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, ERROR_STATUS[code]);
    if (field !== undefined) {
      assert.equal(err.field, field);
      assert.ok(err.message.includes(field), `message ${err.message} does not name ${field}`);
    }
    return true;
  });
}

async function runningChannel(): Promise<ChannelRecord> {
  const c = await cp.channels.create({ name: 'c' });
  return await cp.channels.start(c.id);
}

void describe('channels', () => {
  void test('create applies the defaults and a fresh id and key', async () => {
    const c = await cp.channels.create({ name: '  Trimmed  ' });
    assert.equal(c.name, 'Trimmed');
    assertChannelDefaults(c);
    assert.match(c.id, /^[A-Za-z0-9_-]+$/);
    assert.match(c.streamKey, /^sk_[A-Za-z0-9_-]+$/);
    const random = c.streamKey.slice('sk_'.length);
    assert.ok(Buffer.from(random, 'base64url').length >= 16, `${c.streamKey}: ≥ 128 bits`);
    assert.deepEqual(await store.channels.get(c.id), c);
  });

  void test('create validates every field and names it', async () => {
    await rejectsCode(
      cp.channels.create({ name: 'x', segmentSeconds: 11 }),
      'validation_failed',
      'segmentSeconds',
    );
    await rejectsCode(
      cp.channels.create({ name: 'x', segmentSeconds: 0 }),
      'validation_failed',
      'segmentSeconds',
    );
    await rejectsCode(cp.channels.create({ name: 'x', mode: 'x' }), 'validation_failed', 'mode');
    await rejectsCode(cp.channels.create({ name: 'x', ladder: '4k' }), 'validation_failed', 'ladder');
    await rejectsCode(cp.channels.create({ name: '' }), 'validation_failed', 'name');
    await rejectsCode(cp.channels.create({}), 'validation_failed', 'name');
    await rejectsCode(cp.channels.create({ name: 'x', extra: 1 }), 'validation_failed', 'extra');
    await rejectsCode(cp.channels.create({ name: 'x', ingest: ['not-a-cidr'] }), 'validation_failed');
    await rejectsCode(cp.channels.create(null), 'validation_failed');
    await rejectsCode(cp.channels.create([]), 'validation_failed');
    assert.equal((await cp.channels.list({ limit: 50, offset: 0 })).total, 0, 'nothing was created');
  });

  void test('create accepts the edges: segmentSeconds 1 and 10, IPv4/IPv6 addresses and CIDRs', async () => {
    assert.equal((await cp.channels.create({ name: 'a', segmentSeconds: 1 })).segmentSeconds, 1);
    assert.equal((await cp.channels.create({ name: 'b', segmentSeconds: 10 })).segmentSeconds, 10);
    const c = await cp.channels.create({
      name: 'c',
      ingest: ['10.0.0.0/8', '::1', '2001:db8::/32', '192.168.1.1'],
    });
    assert.equal(c.ingest.length, 4);
  });

  void test('list paginates in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await cp.channels.create({ name: `c${i}` })).id);
    const all = await cp.channels.list({ limit: 50, offset: 0 });
    assert.equal(all.total, 5);
    assert.deepEqual(all.items.map((c) => c.id).sort(), [...ids].sort());
    const page = await cp.channels.list({ limit: 2, offset: 2 });
    assert.equal(page.total, 5);
    assert.deepEqual(
      page.items.map((c) => c.id),
      all.items.slice(2, 4).map((c) => c.id),
    );
    assert.deepEqual((await cp.channels.list({ limit: 2, offset: 5 })).items, []);
  });

  void test('unknown ids are channel_not_found', async () => {
    await rejectsCode(cp.channels.get('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.channels.patch('ch_nope', { name: 'x' }), 'channel_not_found');
    await rejectsCode(cp.channels.start('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.channels.stop('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.channels.reset('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.channels.delete('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.programs.create('ch_nope', { name: 'p' }), 'channel_not_found');
    await rejectsCode(cp.programs.list('ch_nope', { limit: 50, offset: 0 }), 'channel_not_found');
  });

  void test('start → running, stop → stopped, both idempotent; the runtime is asked once each', async () => {
    const c = await cp.channels.create({ name: 'c' });
    assert.equal((await cp.channels.start(c.id)).state, 'running');
    assert.equal((await store.channels.get(c.id))?.state, 'running');
    assert.equal((await cp.channels.start(c.id)).state, 'running');
    assert.equal((await cp.channels.stop(c.id)).state, 'stopped');
    assert.equal((await cp.channels.stop(c.id)).state, 'stopped');
    assert.deepEqual(runtime.calls, ['startChannel', 'stopChannel']);
  });

  void test('a channel whose runtime fails to start goes back to stopped with 503 unavailable', async () => {
    const c = await cp.channels.create({ name: 'c' });
    runtime.failStart = true;
    await rejectsCode(cp.channels.start(c.id), 'unavailable');
    assert.equal((await store.channels.get(c.id))?.state, 'stopped');
  });

  void test('a starting or stopping channel is busy', async () => {
    const c = await cp.channels.create({ name: 'c' });
    await store.channels.update({ ...c, state: 'starting' });
    await rejectsCode(cp.channels.start(c.id), 'channel_busy');
    await rejectsCode(cp.channels.reset(c.id), 'channel_busy');
    await rejectsCode(cp.channels.delete(c.id), 'channel_running');
    await store.channels.update({ ...c, state: 'stopping' });
    await rejectsCode(cp.channels.stop(c.id), 'channel_busy');
    await rejectsCode(cp.channels.patch(c.id, { ladder: '480p' }), 'channel_running', 'ladder');
  });

  void test('patch: a running channel keeps its mode, ladder and segmentSeconds; other fields change', async () => {
    const c = await runningChannel();
    await rejectsCode(cp.channels.patch(c.id, { mode: 'passthrough' }), 'channel_running', 'mode');
    await rejectsCode(cp.channels.patch(c.id, { ladder: '1080p' }), 'channel_running', 'ladder');
    await rejectsCode(cp.channels.patch(c.id, { segmentSeconds: 3 }), 'channel_running', 'segmentSeconds');
    await rejectsCode(cp.channels.patch(c.id, { name: 'n', ladder: '1080p' }), 'channel_running');
    assert.equal((await store.channels.get(c.id))?.name, 'c', 'a refused patch changes nothing');
    const same = await cp.channels.patch(c.id, { mode: 'encode', ladder: '720p', segmentSeconds: 2 });
    assert.equal(same.state, 'running');
    const renamed = await cp.channels.patch(c.id, {
      name: 'renamed',
      description: 'd',
      ingest: ['10.0.0.0/8'],
      preview: ['::1'],
    });
    assert.equal(renamed.name, 'renamed');
    assert.deepEqual((await store.channels.get(c.id))?.ingest, ['10.0.0.0/8']);
    assert.deepEqual((await store.channels.get(c.id))?.preview, ['::1']);

    await cp.channels.stop(c.id);
    const changed = await cp.channels.patch(c.id, { mode: 'passthrough', ladder: '480p', segmentSeconds: 4 });
    assert.equal(changed.mode, 'passthrough');
    assert.equal(changed.ladder, '480p');
    assert.equal(changed.segmentSeconds, 4);
    assert.equal(changed.name, 'renamed', 'unsent fields are kept');
  });

  void test('patch validates', async () => {
    const c = await cp.channels.create({ name: 'c' });
    await rejectsCode(cp.channels.patch(c.id, { segmentSeconds: 11 }), 'validation_failed', 'segmentSeconds');
    await rejectsCode(cp.channels.patch(c.id, { name: '' }), 'validation_failed', 'name');
    await rejectsCode(cp.channels.patch(c.id, { streamKey: 'mine' }), 'validation_failed', 'streamKey');
    await rejectsCode(cp.channels.patch(c.id, { state: 'running' }), 'validation_failed', 'state');
    assert.equal((await store.channels.get(c.id))?.state, 'stopped');
  });

  void test('reset rotates the stream key, clears events and keeps the state', async () => {
    const c = await runningChannel();
    assert.ok((await cp.channels.events(c.id, { limit: 50, offset: 0 })).total > 0);
    const r = await cp.channels.reset(c.id);
    assert.notEqual(r.streamKey, c.streamKey);
    assert.equal((await store.channels.get(c.id))?.streamKey, r.streamKey);
    assert.equal(r.state, 'running');
    const events = await cp.channels.events(c.id, { limit: 50, offset: 0 });
    assert.deepEqual(
      events.items.map((e) => e.type),
      ['channel.reset'],
      'older events are cleared',
    );
    assert.ok(runtime.calls.includes('resetChannel'));
  });

  void test('delete: refused while running (channel_running), then deletes the channel and its programs, keeps assets', async () => {
    const c = await runningChannel();
    const p = await cp.programs.create(c.id, { name: 'p' });
    const q = await cp.programs.create(c.id, { name: 'q' });
    await cp.programs.start(p.id);
    await rejectsCode(cp.channels.delete(c.id), 'channel_running');
    assert.ok(await store.channels.get(c.id));
    await cp.channels.stop(c.id);
    const asset = (await store.programs.get(p.id))?.assetId;
    assert.ok(asset, 'stopping the channel closed the recording');
    await cp.channels.delete(c.id);
    assert.equal(await store.channels.get(c.id), undefined);
    await rejectsCode(cp.programs.get(p.id), 'program_not_found');
    await rejectsCode(cp.programs.get(q.id), 'program_not_found');
    assert.ok(await cp.assets.get(asset), 'recordings are never lost');
    assert.ok(runtime.calls.includes('deleteChannel'));
  });

  void test('delete refuses a stopped channel that still has a running program (channel_has_running_programs)', async () => {
    const c = await cp.channels.create({ name: 'c' });
    const p = await cp.programs.create(c.id, { name: 'p' });
    // Only reachable through inconsistent rows; the rule must hold anyway.
    await store.programs.update({ ...p, state: 'running', startedAt: new Date().toISOString() });
    await rejectsCode(cp.channels.delete(c.id), 'channel_has_running_programs');
    assert.ok(await store.channels.get(c.id));
    assert.ok(await store.programs.get(p.id));
  });
});

void describe('programs', () => {
  void test('create: archiveWindowMinutes defaults to 60, accepts 1..1500', async () => {
    const c = await cp.channels.create({ name: 'c' });
    const p = await cp.programs.create(c.id, { name: 'p' });
    assert.equal(p.archiveWindowMinutes, 60);
    assert.equal(p.state, 'stopped');
    assert.equal(p.channelId, c.id);
    assert.equal(p.assetId, null);
    assert.equal(
      (await cp.programs.create(c.id, { name: 'p', archiveWindowMinutes: 1 })).archiveWindowMinutes,
      1,
    );
    assert.equal(
      (await cp.programs.create(c.id, { name: 'p', archiveWindowMinutes: 1500 })).archiveWindowMinutes,
      1500,
    );
    for (const bad of [0, 1501, 1.5, '60']) {
      await rejectsCode(
        cp.programs.create(c.id, { name: 'p', archiveWindowMinutes: bad }),
        'validation_failed',
        'archiveWindowMinutes',
      );
    }
    await rejectsCode(cp.programs.create(c.id, { name: '' }), 'validation_failed', 'name');
    await rejectsCode(cp.programs.create(c.id, { name: 'p', x: 1 }), 'validation_failed', 'x');
    assert.equal((await cp.programs.list(c.id, { limit: 50, offset: 0 })).total, 3);
  });

  void test('a program starts only on a running channel (channel_not_running)', async () => {
    const c = await cp.channels.create({ name: 'c' });
    const p = await cp.programs.create(c.id, { name: 'p' });
    await rejectsCode(cp.programs.start(p.id), 'channel_not_running');
    assert.equal((await store.programs.get(p.id))?.state, 'stopped');
    await cp.channels.start(c.id);
    const started = await cp.programs.start(p.id);
    assert.equal(started.state, 'running');
    assert.ok(started.startedAt);
    assert.equal((await cp.programs.start(p.id)).startedAt, started.startedAt, 'starting again is a no-op');
  });

  void test(`at most ${MAX_RUNNING_PROGRAMS} running programs per channel (program_limit_reached)`, async () => {
    assert.equal(MAX_RUNNING_PROGRAMS, 3);
    const c = await runningChannel();
    const other = await runningChannel();
    const ps: ProgramRecord[] = [];
    for (let i = 0; i < 4; i++) ps.push(await cp.programs.create(c.id, { name: `p${i}` }));
    for (const p of ps.slice(0, 3)) await cp.programs.start(p.id);
    await rejectsCode(cp.programs.start(ps[3]!.id), 'program_limit_reached');
    assert.equal((await store.programs.get(ps[3]!.id))?.state, 'stopped');
    // The limit is per channel.
    const o = await cp.programs.create(other.id, { name: 'o' });
    assert.equal((await cp.programs.start(o.id)).state, 'running');
    // Stopped programs free a slot.
    await cp.programs.stop(ps[0]!.id);
    assert.equal((await cp.programs.start(ps[3]!.id)).state, 'running');
    assert.equal((await cp.channels.counts()).programsRunning, 4);
  });

  void test('stop creates exactly one asset; a recorded program cannot start again', async () => {
    const c = await runningChannel();
    const p = await cp.programs.create(c.id, { name: 'show' });
    await cp.programs.start(p.id);
    const stopped = await cp.programs.stop(p.id);
    assert.equal(stopped.state, 'stopped');
    assert.ok(stopped.stoppedAt);
    assert.ok(stopped.assetId);
    const asset = await cp.assets.get(stopped.assetId);
    assert.equal(asset.programId, p.id);
    assert.equal(asset.channelId, c.id);
    assert.equal(asset.name, 'show');
    assert.ok(asset.durationSeconds >= 0);
    await rejectsCode(cp.programs.stop(p.id), 'program_not_running');
    assert.equal((await cp.assets.list({ limit: 50, offset: 0 })).total, 1);
    await rejectsCode(cp.programs.start(p.id), 'program_finished');
  });

  void test('stopping a program that never ran is a conflict and makes no asset', async () => {
    const c = await cp.channels.create({ name: 'c' });
    const p = await cp.programs.create(c.id, { name: 'p' });
    await rejectsCode(cp.programs.stop(p.id), 'program_not_running');
    assert.equal((await cp.programs.get(p.id)).assetId, null);
    assert.equal((await cp.assets.list({ limit: 50, offset: 0 })).total, 0);
  });

  void test('delete: a running program is refused (program_running); a stopped one is deleted', async () => {
    const c = await runningChannel();
    const p = await cp.programs.create(c.id, { name: 'p' });
    await cp.programs.start(p.id);
    await rejectsCode(cp.programs.delete(p.id), 'program_running');
    await cp.programs.stop(p.id);
    await cp.programs.delete(p.id);
    await rejectsCode(cp.programs.get(p.id), 'program_not_found');
    await rejectsCode(cp.programs.delete(p.id), 'program_not_found');
  });

  void test('unknown program and asset ids', async () => {
    await rejectsCode(cp.programs.get('pg_nope'), 'program_not_found');
    await rejectsCode(cp.programs.start('pg_nope'), 'program_not_found');
    await rejectsCode(cp.programs.stop('pg_nope'), 'program_not_found');
    await rejectsCode(cp.assets.get('as_nope'), 'asset_not_found');
    await rejectsCode(cp.assets.delete('as_nope'), 'asset_not_found');
  });

  void test('assets: delete then not found', async () => {
    const c = await runningChannel();
    const p = await cp.programs.create(c.id, { name: 'p' });
    await cp.programs.start(p.id);
    const id = (await cp.programs.stop(p.id)).assetId!;
    await cp.assets.delete(id);
    await rejectsCode(cp.assets.get(id), 'asset_not_found');
  });
});

void describe('restore and counts', () => {
  void test('after a restart a running channel comes back running and its programs keep running', async () => {
    const live = await runningChannel();
    const idle = await cp.channels.create({ name: 'idle' });
    const p = await cp.programs.create(live.id, { name: 'p' });
    await cp.programs.start(p.id);
    const half = await cp.channels.create({ name: 'half' });
    await store.channels.update({ ...half, state: 'stopping' });
    await cp.shutdown();
    await store.close();

    open();
    await cp.restore();
    assert.equal((await store.channels.get(live.id))?.state, 'running');
    assert.equal((await store.channels.get(idle.id))?.state, 'stopped');
    assert.equal(
      (await store.channels.get(half.id))?.state,
      'stopped',
      'a channel caught stopping comes back stopped',
    );
    assert.equal((await store.programs.get(p.id))?.state, 'running');
    assert.deepEqual(runtime.calls, ['startChannel'], 'only the running channel is started again');
  });

  void test('a channel that cannot be restored comes back stopped', async () => {
    const c = await runningChannel();
    await store.close();
    open();
    runtime.failStart = true;
    await cp.restore();
    assert.equal((await store.channels.get(c.id))?.state, 'stopped');
  });

  void test('counts reflect channels by state and running programs', async () => {
    assert.deepEqual(await cp.channels.counts(), {
      channelsByState: { stopped: 0, starting: 0, running: 0, stopping: 0 },
      programsRunning: 0,
    });
    const c = await runningChannel();
    await cp.channels.create({ name: 'x' });
    const p = await cp.programs.create(c.id, { name: 'p' });
    await cp.programs.start(p.id);
    assert.deepEqual(await cp.channels.counts(), {
      channelsByState: { stopped: 1, starting: 0, running: 1, stopping: 0 },
      programsRunning: 1,
    });
  });

  void test('the store is migrated to its latest version once', async () => {
    const v = await store.schemaVersion();
    assert.ok(v >= 2);
    await store.close();
    open();
    assert.equal(await store.schemaVersion(), v);
  });
});
