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
import { Store, type ChannelRecord, type ProgramRecord } from '../../server/store/store.ts';
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
  store = new Store(dir);
  runtime = new RecordingRuntime();
  cp = new ControlPlane({ store, runtime, log: createLogger('silent') });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'onair-unit-'));
  open();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts `fn` throws an OnairError with `code` (and its fixed status). */
function throwsCode(fn: () => unknown, code: ErrorCode, field?: string): void {
  assert.throws(fn, (err: unknown) => {
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

async function rejectsCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OnairError, `not an OnairError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

async function runningChannel(): Promise<ChannelRecord> {
  const c = cp.createChannel({ name: 'c' });
  return cp.startChannel(c.id);
}

void describe('channels', () => {
  void test('create applies the defaults and a fresh id and key', () => {
    const c = cp.createChannel({ name: '  Trimmed  ' });
    assert.equal(c.name, 'Trimmed');
    assertChannelDefaults(c);
    assert.match(c.id, /^[A-Za-z0-9_-]+$/);
    assert.match(c.streamKey, /^sk_[A-Za-z0-9_-]+$/);
    const random = c.streamKey.slice('sk_'.length);
    assert.ok(Buffer.from(random, 'base64url').length >= 16, `${c.streamKey}: ≥ 128 bits`);
    assert.deepEqual(store.getChannel(c.id), c);
  });

  void test('create validates every field and names it', () => {
    throwsCode(
      () => cp.createChannel({ name: 'x', segmentSeconds: 11 }),
      'validation_failed',
      'segmentSeconds',
    );
    throwsCode(
      () => cp.createChannel({ name: 'x', segmentSeconds: 0 }),
      'validation_failed',
      'segmentSeconds',
    );
    throwsCode(() => cp.createChannel({ name: 'x', mode: 'x' }), 'validation_failed', 'mode');
    throwsCode(() => cp.createChannel({ name: 'x', ladder: '4k' }), 'validation_failed', 'ladder');
    throwsCode(() => cp.createChannel({ name: '' }), 'validation_failed', 'name');
    throwsCode(() => cp.createChannel({}), 'validation_failed', 'name');
    throwsCode(() => cp.createChannel({ name: 'x', extra: 1 }), 'validation_failed', 'extra');
    throwsCode(() => cp.createChannel({ name: 'x', ingest: ['not-a-cidr'] }), 'validation_failed');
    throwsCode(() => cp.createChannel(null), 'validation_failed');
    throwsCode(() => cp.createChannel([]), 'validation_failed');
    assert.equal(cp.listChannels({ limit: 50, offset: 0 }).total, 0, 'nothing was created');
  });

  void test('create accepts the edges: segmentSeconds 1 and 10, IPv4/IPv6 addresses and CIDRs', () => {
    assert.equal(cp.createChannel({ name: 'a', segmentSeconds: 1 }).segmentSeconds, 1);
    assert.equal(cp.createChannel({ name: 'b', segmentSeconds: 10 }).segmentSeconds, 10);
    const c = cp.createChannel({ name: 'c', ingest: ['10.0.0.0/8', '::1', '2001:db8::/32', '192.168.1.1'] });
    assert.equal(c.ingest.length, 4);
  });

  void test('list paginates in creation order', () => {
    const ids = Array.from({ length: 5 }, (_, i) => cp.createChannel({ name: `c${i}` }).id);
    const all = cp.listChannels({ limit: 50, offset: 0 });
    assert.equal(all.total, 5);
    assert.deepEqual(all.items.map((c) => c.id).sort(), [...ids].sort());
    const page = cp.listChannels({ limit: 2, offset: 2 });
    assert.equal(page.total, 5);
    assert.deepEqual(
      page.items.map((c) => c.id),
      all.items.slice(2, 4).map((c) => c.id),
    );
    assert.deepEqual(cp.listChannels({ limit: 2, offset: 5 }).items, []);
  });

  void test('unknown ids are channel_not_found', async () => {
    throwsCode(() => cp.requireChannel('ch_nope'), 'channel_not_found');
    throwsCode(() => cp.patchChannel('ch_nope', { name: 'x' }), 'channel_not_found');
    await rejectsCode(cp.startChannel('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.stopChannel('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.resetChannel('ch_nope'), 'channel_not_found');
    await rejectsCode(cp.deleteChannel('ch_nope'), 'channel_not_found');
    throwsCode(() => cp.createProgram('ch_nope', { name: 'p' }), 'channel_not_found');
    throwsCode(() => cp.listPrograms('ch_nope', { limit: 50, offset: 0 }), 'channel_not_found');
  });

  void test('start → running, stop → stopped, both idempotent; the runtime is asked once each', async () => {
    const c = cp.createChannel({ name: 'c' });
    assert.equal((await cp.startChannel(c.id)).state, 'running');
    assert.equal(store.getChannel(c.id)?.state, 'running');
    assert.equal((await cp.startChannel(c.id)).state, 'running');
    assert.equal((await cp.stopChannel(c.id)).state, 'stopped');
    assert.equal((await cp.stopChannel(c.id)).state, 'stopped');
    assert.deepEqual(runtime.calls, ['startChannel', 'stopChannel']);
  });

  void test('a channel whose runtime fails to start goes back to stopped with 503 unavailable', async () => {
    const c = cp.createChannel({ name: 'c' });
    runtime.failStart = true;
    await rejectsCode(cp.startChannel(c.id), 'unavailable');
    assert.equal(store.getChannel(c.id)?.state, 'stopped');
  });

  void test('a starting or stopping channel is busy', async () => {
    const c = cp.createChannel({ name: 'c' });
    store.updateChannel({ ...c, state: 'starting' });
    await rejectsCode(cp.startChannel(c.id), 'channel_busy');
    await rejectsCode(cp.resetChannel(c.id), 'channel_busy');
    await rejectsCode(cp.deleteChannel(c.id), 'channel_running');
    store.updateChannel({ ...c, state: 'stopping' });
    await rejectsCode(cp.stopChannel(c.id), 'channel_busy');
    throwsCode(() => cp.patchChannel(c.id, { ladder: '480p' }), 'channel_running', 'ladder');
  });

  void test('patch: a running channel keeps its mode, ladder and segmentSeconds; other fields change', async () => {
    const c = await runningChannel();
    throwsCode(() => cp.patchChannel(c.id, { mode: 'passthrough' }), 'channel_running', 'mode');
    throwsCode(() => cp.patchChannel(c.id, { ladder: '1080p' }), 'channel_running', 'ladder');
    throwsCode(() => cp.patchChannel(c.id, { segmentSeconds: 3 }), 'channel_running', 'segmentSeconds');
    throwsCode(() => cp.patchChannel(c.id, { name: 'n', ladder: '1080p' }), 'channel_running');
    assert.equal(store.getChannel(c.id)?.name, 'c', 'a refused patch changes nothing');
    const same = cp.patchChannel(c.id, { mode: 'encode', ladder: '720p', segmentSeconds: 2 });
    assert.equal(same.state, 'running');
    const renamed = cp.patchChannel(c.id, {
      name: 'renamed',
      description: 'd',
      ingest: ['10.0.0.0/8'],
      preview: ['::1'],
    });
    assert.equal(renamed.name, 'renamed');
    assert.deepEqual(store.getChannel(c.id)?.ingest, ['10.0.0.0/8']);
    assert.deepEqual(store.getChannel(c.id)?.preview, ['::1']);

    await cp.stopChannel(c.id);
    const changed = cp.patchChannel(c.id, { mode: 'passthrough', ladder: '480p', segmentSeconds: 4 });
    assert.equal(changed.mode, 'passthrough');
    assert.equal(changed.ladder, '480p');
    assert.equal(changed.segmentSeconds, 4);
    assert.equal(changed.name, 'renamed', 'unsent fields are kept');
  });

  void test('patch validates', () => {
    const c = cp.createChannel({ name: 'c' });
    throwsCode(() => cp.patchChannel(c.id, { segmentSeconds: 11 }), 'validation_failed', 'segmentSeconds');
    throwsCode(() => cp.patchChannel(c.id, { name: '' }), 'validation_failed', 'name');
    throwsCode(() => cp.patchChannel(c.id, { streamKey: 'mine' }), 'validation_failed', 'streamKey');
    throwsCode(() => cp.patchChannel(c.id, { state: 'running' }), 'validation_failed', 'state');
    assert.equal(store.getChannel(c.id)?.state, 'stopped');
  });

  void test('reset rotates the stream key, clears events and keeps the state', async () => {
    const c = await runningChannel();
    assert.ok(cp.listEvents(c.id, { limit: 50, offset: 0 }).total > 0);
    const r = await cp.resetChannel(c.id);
    assert.notEqual(r.streamKey, c.streamKey);
    assert.equal(store.getChannel(c.id)?.streamKey, r.streamKey);
    assert.equal(r.state, 'running');
    const events = cp.listEvents(c.id, { limit: 50, offset: 0 });
    assert.deepEqual(
      events.items.map((e) => e.type),
      ['channel.reset'],
      'older events are cleared',
    );
    assert.ok(runtime.calls.includes('resetChannel'));
  });

  void test('delete: refused while running (channel_running), then deletes the channel and its programs, keeps assets', async () => {
    const c = await runningChannel();
    const p = cp.createProgram(c.id, { name: 'p' });
    const q = cp.createProgram(c.id, { name: 'q' });
    cp.startProgram(p.id);
    await rejectsCode(cp.deleteChannel(c.id), 'channel_running');
    assert.ok(store.getChannel(c.id));
    await cp.stopChannel(c.id);
    const asset = store.getProgram(p.id)?.assetId;
    assert.ok(asset, 'stopping the channel closed the recording');
    await cp.deleteChannel(c.id);
    assert.equal(store.getChannel(c.id), undefined);
    throwsCode(() => cp.requireProgram(p.id), 'program_not_found');
    throwsCode(() => cp.requireProgram(q.id), 'program_not_found');
    assert.ok(cp.requireAsset(asset), 'recordings are never lost');
    assert.ok(runtime.calls.includes('deleteChannel'));
  });

  void test('delete refuses a stopped channel that still has a running program (channel_has_running_programs)', async () => {
    const c = cp.createChannel({ name: 'c' });
    const p = cp.createProgram(c.id, { name: 'p' });
    // Only reachable through inconsistent rows; the rule must hold anyway.
    store.updateProgram({ ...p, state: 'running', startedAt: new Date().toISOString() });
    await rejectsCode(cp.deleteChannel(c.id), 'channel_has_running_programs');
    assert.ok(store.getChannel(c.id));
    assert.ok(store.getProgram(p.id));
  });
});

void describe('programs', () => {
  void test('create: archiveWindowMinutes defaults to 60, accepts 1..1500', () => {
    const c = cp.createChannel({ name: 'c' });
    const p = cp.createProgram(c.id, { name: 'p' });
    assert.equal(p.archiveWindowMinutes, 60);
    assert.equal(p.state, 'stopped');
    assert.equal(p.channelId, c.id);
    assert.equal(p.assetId, null);
    assert.equal(cp.createProgram(c.id, { name: 'p', archiveWindowMinutes: 1 }).archiveWindowMinutes, 1);
    assert.equal(
      cp.createProgram(c.id, { name: 'p', archiveWindowMinutes: 1500 }).archiveWindowMinutes,
      1500,
    );
    for (const bad of [0, 1501, 1.5, '60']) {
      throwsCode(
        () => cp.createProgram(c.id, { name: 'p', archiveWindowMinutes: bad }),
        'validation_failed',
        'archiveWindowMinutes',
      );
    }
    throwsCode(() => cp.createProgram(c.id, { name: '' }), 'validation_failed', 'name');
    throwsCode(() => cp.createProgram(c.id, { name: 'p', x: 1 }), 'validation_failed', 'x');
    assert.equal(cp.listPrograms(c.id, { limit: 50, offset: 0 }).total, 3);
  });

  void test('a program starts only on a running channel (channel_not_running)', async () => {
    const c = cp.createChannel({ name: 'c' });
    const p = cp.createProgram(c.id, { name: 'p' });
    throwsCode(() => cp.startProgram(p.id), 'channel_not_running');
    assert.equal(store.getProgram(p.id)?.state, 'stopped');
    await cp.startChannel(c.id);
    const started = cp.startProgram(p.id);
    assert.equal(started.state, 'running');
    assert.ok(started.startedAt);
    assert.equal(cp.startProgram(p.id).startedAt, started.startedAt, 'starting again is a no-op');
  });

  void test(`at most ${MAX_RUNNING_PROGRAMS} running programs per channel (program_limit_reached)`, async () => {
    assert.equal(MAX_RUNNING_PROGRAMS, 3);
    const c = await runningChannel();
    const other = await runningChannel();
    const ps: ProgramRecord[] = Array.from({ length: 4 }, (_, i) =>
      cp.createProgram(c.id, { name: `p${i}` }),
    );
    for (const p of ps.slice(0, 3)) cp.startProgram(p.id);
    throwsCode(() => cp.startProgram(ps[3]!.id), 'program_limit_reached');
    assert.equal(store.getProgram(ps[3]!.id)?.state, 'stopped');
    // The limit is per channel.
    const o = cp.createProgram(other.id, { name: 'o' });
    assert.equal(cp.startProgram(o.id).state, 'running');
    // Stopped programs free a slot.
    cp.stopProgram(ps[0]!.id);
    assert.equal(cp.startProgram(ps[3]!.id).state, 'running');
    assert.equal(cp.counts().programsRunning, 4);
  });

  void test('stop creates exactly one asset; a recorded program cannot start again', async () => {
    const c = await runningChannel();
    const p = cp.createProgram(c.id, { name: 'show' });
    cp.startProgram(p.id);
    const stopped = cp.stopProgram(p.id);
    assert.equal(stopped.state, 'stopped');
    assert.ok(stopped.stoppedAt);
    assert.ok(stopped.assetId);
    const asset = cp.requireAsset(stopped.assetId);
    assert.equal(asset.programId, p.id);
    assert.equal(asset.channelId, c.id);
    assert.equal(asset.name, 'show');
    assert.ok(asset.durationSeconds >= 0);
    throwsCode(() => cp.stopProgram(p.id), 'program_not_running');
    assert.equal(cp.listAssets({ limit: 50, offset: 0 }).total, 1);
    throwsCode(() => cp.startProgram(p.id), 'program_finished');
  });

  void test('stopping a program that never ran is a conflict and makes no asset', () => {
    const c = cp.createChannel({ name: 'c' });
    const p = cp.createProgram(c.id, { name: 'p' });
    throwsCode(() => cp.stopProgram(p.id), 'program_not_running');
    assert.equal(cp.requireProgram(p.id).assetId, null);
    assert.equal(cp.listAssets({ limit: 50, offset: 0 }).total, 0);
  });

  void test('delete: a running program is refused (program_running); a stopped one is deleted', async () => {
    const c = await runningChannel();
    const p = cp.createProgram(c.id, { name: 'p' });
    cp.startProgram(p.id);
    throwsCode(() => cp.deleteProgram(p.id), 'program_running');
    cp.stopProgram(p.id);
    cp.deleteProgram(p.id);
    throwsCode(() => cp.requireProgram(p.id), 'program_not_found');
    throwsCode(() => cp.deleteProgram(p.id), 'program_not_found');
  });

  void test('unknown program and asset ids', () => {
    throwsCode(() => cp.requireProgram('pg_nope'), 'program_not_found');
    throwsCode(() => cp.startProgram('pg_nope'), 'program_not_found');
    throwsCode(() => cp.stopProgram('pg_nope'), 'program_not_found');
    throwsCode(() => cp.requireAsset('as_nope'), 'asset_not_found');
    throwsCode(() => cp.deleteAsset('as_nope'), 'asset_not_found');
  });

  void test('assets: delete then not found', async () => {
    const c = await runningChannel();
    const p = cp.createProgram(c.id, { name: 'p' });
    cp.startProgram(p.id);
    const id = cp.stopProgram(p.id).assetId!;
    await cp.deleteAsset(id);
    throwsCode(() => cp.requireAsset(id), 'asset_not_found');
  });
});

void describe('restore and counts', () => {
  void test('after a restart a running channel comes back running and its programs keep running', async () => {
    const live = await runningChannel();
    const idle = cp.createChannel({ name: 'idle' });
    const p = cp.createProgram(live.id, { name: 'p' });
    cp.startProgram(p.id);
    const half = cp.createChannel({ name: 'half' });
    store.updateChannel({ ...half, state: 'stopping' });
    await cp.shutdown();
    store.close();

    open();
    await cp.restore();
    assert.equal(store.getChannel(live.id)?.state, 'running');
    assert.equal(store.getChannel(idle.id)?.state, 'stopped');
    assert.equal(store.getChannel(half.id)?.state, 'stopped', 'a channel caught stopping comes back stopped');
    assert.equal(store.getProgram(p.id)?.state, 'running');
    assert.deepEqual(runtime.calls, ['startChannel'], 'only the running channel is started again');
  });

  void test('a channel that cannot be restored comes back stopped', async () => {
    const c = await runningChannel();
    store.close();
    open();
    runtime.failStart = true;
    await cp.restore();
    assert.equal(store.getChannel(c.id)?.state, 'stopped');
  });

  void test('counts reflect channels by state and running programs', async () => {
    assert.deepEqual(cp.counts(), {
      channelsByState: { stopped: 0, starting: 0, running: 0, stopping: 0 },
      programsRunning: 0,
    });
    const c = await runningChannel();
    cp.createChannel({ name: 'x' });
    const p = cp.createProgram(c.id, { name: 'p' });
    cp.startProgram(p.id);
    assert.deepEqual(cp.counts(), {
      channelsByState: { stopped: 1, starting: 0, running: 1, stopping: 0 },
      programsRunning: 1,
    });
  });

  void test('the store is migrated to its latest version once', () => {
    const v = store.schemaVersion();
    assert.ok(v >= 2);
    store.close();
    open();
    assert.equal(store.schemaVersion(), v);
  });
});
