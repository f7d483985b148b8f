/** Programs and assets against the real server process. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset, Channel, Page, Program } from '../../lib/schemas.ts';
import { assertError, startServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.dispose();
});

async function channel(start = false): Promise<Channel> {
  const res = await s.api<Channel>('POST', '/api/v1/channels', { name: 'programs test' });
  assert.equal(res.status, 201, res.text);
  if (start)
    assert.equal(
      (await s.api<Channel>('POST', `/api/v1/channels/${res.json.id}/start`)).json.state,
      'running',
    );
  return res.json;
}

async function program(channelId: string, body: Record<string, unknown> = {}): Promise<Program> {
  const res = await s.api<Program>('POST', `/api/v1/channels/${channelId}/programs`, {
    name: 'show',
    ...body,
  });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

void describe('programs', () => {
  void test('POST creates a stopped program with archiveWindowMinutes 60 by default', async () => {
    const c = await channel();
    const res = await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'Morning show' });
    assert.equal(res.status, 201, res.text);
    const p = res.json;
    assert.match(p.id, /^[A-Za-z0-9_-]{8,}$/);
    assert.equal(p.channelId, c.id);
    assert.equal(p.name, 'Morning show');
    assert.equal(p.archiveWindowMinutes, 60);
    assert.equal(p.state, 'stopped');
    assert.equal(p.startedAt, null);
    assert.equal(p.stoppedAt, null);
    assert.equal(p.assetId, null);
    const got = await s.api<Program>('GET', `/api/v1/programs/${p.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, p);
  });

  void test('archiveWindowMinutes accepts 1 and 1500 and refuses 0, 1501, 2.5 and "60" (422)', async () => {
    const c = await channel();
    assert.equal((await program(c.id, { archiveWindowMinutes: 1 })).archiveWindowMinutes, 1);
    assert.equal((await program(c.id, { archiveWindowMinutes: 1500 })).archiveWindowMinutes, 1500);
    for (const bad of [0, 1501, 2.5, -5, '60', null]) {
      const res = await s.api('POST', `/api/v1/channels/${c.id}/programs`, {
        name: 'x',
        archiveWindowMinutes: bad,
      });
      assertError(res, 422, 'validation_failed', 'archiveWindowMinutes');
    }
  });

  void test('program name is required and unknown fields are refused (422)', async () => {
    const c = await channel();
    assertError(
      await s.api('POST', `/api/v1/channels/${c.id}/programs`, {}),
      422,
      'validation_failed',
      'name',
    );
    assertError(
      await s.api('POST', `/api/v1/channels/${c.id}/programs`, { name: '  ' }),
      422,
      'validation_failed',
      'name',
    );
    assertError(
      await s.api('POST', `/api/v1/channels/${c.id}/programs`, { name: 'x', dvr: true }),
      422,
      'validation_failed',
      'dvr',
    );
  });

  void test('programs of an unknown channel: 404 channel_not_found', async () => {
    assertError(
      await s.api('POST', '/api/v1/channels/ch_doesnotexist00/programs', { name: 'x' }),
      404,
      'channel_not_found',
    );
    assertError(await s.api('GET', '/api/v1/channels/ch_doesnotexist00/programs'), 404, 'channel_not_found');
  });

  void test('GET /channels/:id/programs lists and paginates', async () => {
    const c = await channel();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await program(c.id, { name: `p${i}` })).id);
    const all = await s.api<Page<Program>>('GET', `/api/v1/channels/${c.id}/programs`);
    assert.equal(all.status, 200);
    assert.equal(all.json.total, 4);
    assert.deepEqual(all.json.items.map((p) => p.id).sort(), [...ids].sort());
    const page = await s.api<Page<Program>>('GET', `/api/v1/channels/${c.id}/programs?limit=3&offset=3`);
    assert.equal(page.json.items.length, 1);
    assert.equal(page.json.total, 4);
    assert.equal(page.json.limit, 3);
    assert.equal(page.json.offset, 3);
    // Programs of another channel are not listed.
    const other = await channel();
    const none = await s.api<Page<Program>>('GET', `/api/v1/channels/${other.id}/programs`);
    assert.equal(none.json.total, 0);
    assert.deepEqual(none.json.items, []);
  });

  void test('a program starts only on a running channel (409 channel_not_running)', async () => {
    const c = await channel();
    const p = await program(c.id);
    assertError(await s.api('POST', `/api/v1/programs/${p.id}/start`), 409, 'channel_not_running');
    assert.equal((await s.api<Program>('GET', `/api/v1/programs/${p.id}`)).json.state, 'stopped');

    await s.api('POST', `/api/v1/channels/${c.id}/start`);
    const started = await s.api<Program>('POST', `/api/v1/programs/${p.id}/start`);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.json.state, 'running');
    assert.ok(started.json.startedAt && !Number.isNaN(Date.parse(started.json.startedAt)));
    assert.equal(started.json.stoppedAt, null);
    assert.equal(started.json.assetId, null);
    // Starting again is a no-op.
    const again = await s.api<Program>('POST', `/api/v1/programs/${p.id}/start`);
    assert.equal(again.status, 200);
    assert.equal(again.json.startedAt, started.json.startedAt);
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('a 4th running program on a channel is refused (409 program_limit_reached); another channel is not affected', async () => {
    const c = await channel(true);
    const ps: Program[] = [];
    for (let i = 0; i < 4; i++) ps.push(await program(c.id, { name: `p${i}` }));
    for (const p of ps.slice(0, 3)) {
      const res = await s.api<Program>('POST', `/api/v1/programs/${p.id}/start`);
      assert.equal(res.status, 200, res.text);
    }
    const fourth = ps[3]!;
    assertError(await s.api('POST', `/api/v1/programs/${fourth.id}/start`), 409, 'program_limit_reached');
    assert.equal((await s.api<Program>('GET', `/api/v1/programs/${fourth.id}`)).json.state, 'stopped');

    const c2 = await channel(true);
    const p2 = await program(c2.id);
    assert.equal((await s.api<Program>('POST', `/api/v1/programs/${p2.id}/start`)).status, 200);

    // After one stops, the 4th may start.
    assert.equal((await s.api<Program>('POST', `/api/v1/programs/${ps[0]!.id}/stop`)).status, 200);
    const now = await s.api<Program>('POST', `/api/v1/programs/${fourth.id}/start`);
    assert.equal(now.status, 200, now.text);
    assert.equal(now.json.state, 'running');
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    await s.api('POST', `/api/v1/channels/${c2.id}/stop`);
  });

  void test('stopping a program creates its asset, listed and readable under /assets', async () => {
    const c = await channel(true);
    const p = await program(c.id, { name: 'recorded show' });
    await s.api('POST', `/api/v1/programs/${p.id}/start`);
    await new Promise((r) => setTimeout(r, 50));
    const stopped = await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`);
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.json.state, 'stopped');
    assert.ok(stopped.json.stoppedAt && !Number.isNaN(Date.parse(stopped.json.stoppedAt)));
    const assetId = stopped.json.assetId;
    assert.ok(assetId, 'stop sets assetId');

    // Stopping again is a conflict and makes no second asset.
    assertError(await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`), 409, 'program_not_running');
    assert.equal((await s.api<Program>('GET', `/api/v1/programs/${p.id}`)).json.assetId, assetId);

    const a = await s.api<Asset>('GET', `/api/v1/assets/${assetId}`);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.id, assetId);
    assert.equal(a.json.programId, p.id);
    assert.equal(a.json.name, 'recorded show');
    assert.equal(typeof a.json.durationSeconds, 'number');
    assert.ok(a.json.durationSeconds >= 0);
    assert.equal(typeof a.json.bytes, 'number');
    assert.ok(!Number.isNaN(Date.parse(a.json.createdAt)));

    const list = await s.api<Page<Asset>>('GET', '/api/v1/assets?limit=200');
    assert.equal(list.status, 200);
    assert.ok(
      list.json.items.some((x) => x.id === assetId),
      'asset is listed',
    );
    assert.equal(list.json.total, list.json.items.length);
    const mine = list.json.items.filter((x) => x.programId === p.id);
    assert.equal(mine.length, 1, 'exactly one asset per stopped program');

    // A program that recorded cannot be restarted into the same asset.
    const restart = await s.api('POST', `/api/v1/programs/${p.id}/start`);
    assert.equal(restart.status, 409, restart.text);
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('GET /assets paginates', async () => {
    const c = await channel(true);
    for (let i = 0; i < 3; i++) {
      const p = await program(c.id, { name: `a${i}` });
      await s.api('POST', `/api/v1/programs/${p.id}/start`);
      await s.api('POST', `/api/v1/programs/${p.id}/stop`);
    }
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    const all = await s.api<Page<Asset>>('GET', '/api/v1/assets?limit=200');
    assert.ok(all.json.total >= 3);
    const one = await s.api<Page<Asset>>('GET', '/api/v1/assets?limit=1&offset=1');
    assert.equal(one.json.items.length, 1);
    assert.equal(one.json.total, all.json.total);
    assert.equal(one.json.items[0]?.id, all.json.items[1]?.id);
  });

  void test('a running program cannot be deleted (409 program_running); a stopped one can (204)', async () => {
    const c = await channel(true);
    const p = await program(c.id);
    await s.api('POST', `/api/v1/programs/${p.id}/start`);
    assertError(await s.api('DELETE', `/api/v1/programs/${p.id}`), 409, 'program_running');
    assert.equal((await s.api<Program>('GET', `/api/v1/programs/${p.id}`)).json.state, 'running');
    const stopped = await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`);
    const del = await s.api('DELETE', `/api/v1/programs/${p.id}`);
    assert.equal(del.status, 204, del.text);
    assertError(await s.api('GET', `/api/v1/programs/${p.id}`), 404, 'program_not_found', p.id);
    // The recording outlives its program.
    assert.equal((await s.api('GET', `/api/v1/assets/${stopped.json.assetId}`)).status, 200);
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('DELETE /assets/:id → 204, then 404 asset_not_found', async () => {
    const c = await channel(true);
    const p = await program(c.id);
    await s.api('POST', `/api/v1/programs/${p.id}/start`);
    const assetId = (await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`)).json.assetId;
    assert.ok(assetId);
    const del = await s.api('DELETE', `/api/v1/assets/${assetId}`);
    assert.equal(del.status, 204, del.text);
    assertError(await s.api('GET', `/api/v1/assets/${assetId}`), 404, 'asset_not_found', assetId);
    assertError(await s.api('DELETE', `/api/v1/assets/${assetId}`), 404, 'asset_not_found');
    const list = await s.api<Page<Asset>>('GET', '/api/v1/assets?limit=200');
    assert.ok(!list.json.items.some((a) => a.id === assetId));
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('stopping the channel stops its running programs, each with an asset', async () => {
    const c = await channel(true);
    const a = await program(c.id, { name: 'one' });
    const b = await program(c.id, { name: 'two' });
    await s.api('POST', `/api/v1/programs/${a.id}/start`);
    await s.api('POST', `/api/v1/programs/${b.id}/start`);
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    for (const p of [a, b]) {
      const got = await s.api<Program>('GET', `/api/v1/programs/${p.id}`);
      assert.equal(got.json.state, 'stopped');
      assert.ok(got.json.assetId);
      assert.equal((await s.api('GET', `/api/v1/assets/${got.json.assetId}`)).status, 200);
    }
  });

  void test('no request so far logged an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
