/** Persistence across a restart of the real process, the generated admin token, and bad configuration. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Asset, Channel, Page, Program } from '../../lib/schemas.ts';
import { assertError, runUntilExit, startServer, type TestServer } from '../helpers/server.ts';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.dispose();
});
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

void describe('restart', () => {
  void test('everything survives a restart; a running channel and its program come back running', async () => {
    const s = await server();
    const live = (
      await s.api<Channel>('POST', '/api/v1/channels', {
        name: 'live one',
        ladder: '1080p',
        ingest: ['10.0.0.0/8'],
      })
    ).json;
    const idle = (
      await s.api<Channel>('POST', '/api/v1/channels', {
        name: 'idle one',
        mode: 'passthrough',
        segmentSeconds: 6,
      })
    ).json;
    const renamed = (
      await s.api<Channel>('PATCH', `/api/v1/channels/${idle.id}`, { description: 'edited before restart' })
    ).json;
    assert.equal((await s.api<Channel>('POST', `/api/v1/channels/${live.id}/start`)).json.state, 'running');
    const onAir = (
      await s.api<Program>('POST', `/api/v1/channels/${live.id}/programs`, {
        name: 'on air',
        archiveWindowMinutes: 30,
      })
    ).json;
    const done = (await s.api<Program>('POST', `/api/v1/channels/${live.id}/programs`, { name: 'done' }))
      .json;
    const waiting = (
      await s.api<Program>('POST', `/api/v1/channels/${idle.id}/programs`, { name: 'waiting' })
    ).json;
    const onAirStarted = (await s.api<Program>('POST', `/api/v1/programs/${onAir.id}/start`)).json;
    await s.api('POST', `/api/v1/programs/${done.id}/start`);
    const doneStopped = (await s.api<Program>('POST', `/api/v1/programs/${done.id}/stop`)).json;
    assert.ok(doneStopped.assetId);
    const asset = (await s.api<Asset>('GET', `/api/v1/assets/${doneStopped.assetId}`)).json;

    const firstPid = s.pid;
    const code = await s.stop();
    assert.equal(code, 0, `SIGTERM ends the server cleanly\nstderr: ${s.stderr}`);
    assert.ok(existsSync(path.join(s.dataDir, 'onair.db')), 'the database is in the data dir');
    await s.start();
    assert.notEqual(s.pid, firstPid, 'a new process');

    const list = await s.api<Page<Channel>>('GET', '/api/v1/channels');
    assert.equal(list.status, 200);
    assert.equal(list.json.total, 2);

    const liveAfter = (await s.api<Channel>('GET', `/api/v1/channels/${live.id}`)).json;
    assert.equal(liveAfter.state, 'running', 'a channel that was running comes back running');
    assert.equal(liveAfter.name, 'live one');
    assert.equal(liveAfter.ladder, '1080p');
    assert.deepEqual(liveAfter.ingest, ['10.0.0.0/8']);
    assert.equal(liveAfter.streamKey, live.streamKey, 'the stream key is kept');
    assert.equal(liveAfter.createdAt, live.createdAt);

    const idleAfter = (await s.api<Channel>('GET', `/api/v1/channels/${idle.id}`)).json;
    assert.deepEqual(
      { ...idleAfter, urls: undefined },
      { ...renamed, urls: undefined },
      'a stopped channel is unchanged (its URLs follow the new port)',
    );

    const onAirAfter = (await s.api<Program>('GET', `/api/v1/programs/${onAir.id}`)).json;
    assert.equal(onAirAfter.state, 'running', 'a running program is still running');
    assert.equal(onAirAfter.startedAt, onAirStarted.startedAt);
    assert.equal(onAirAfter.archiveWindowMinutes, 30);
    // URLs follow the new port; everything else is as it was.
    const noUrls = <T extends object>(x: T) => ({ ...x, urls: undefined });
    assert.deepEqual(
      noUrls((await s.api<Program>('GET', `/api/v1/programs/${done.id}`)).json),
      noUrls(doneStopped),
    );
    assert.deepEqual(
      noUrls((await s.api<Program>('GET', `/api/v1/programs/${waiting.id}`)).json),
      noUrls(waiting),
    );
    assert.deepEqual(noUrls((await s.api<Asset>('GET', `/api/v1/assets/${asset.id}`)).json), noUrls(asset));

    const metrics = await s.request('GET', '/metrics', { auth: false });
    assert.match(metrics.text, /^onair_channels\{state="running"\} 1$/m);
    assert.match(metrics.text, /^onair_programs_running 1$/m);

    // The restored channel is fully usable: its running program stops into an asset.
    const stopped = await s.api<Program>('POST', `/api/v1/programs/${onAir.id}/stop`);
    assert.equal(stopped.status, 200);
    assert.ok(stopped.json.assetId);
    assert.equal((await s.api<Channel>('POST', `/api/v1/channels/${live.id}/stop`)).json.state, 'stopped');

    // A second restart keeps the stopped state: it is not "restored" to running.
    await s.restart();
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${live.id}`)).json.state, 'stopped');
    assert.equal((await s.api<Page<Asset>>('GET', '/api/v1/assets')).json.total, 2);
    assert.deepEqual(s.errorLogs(), []);
  });

  void test('a crash (SIGKILL) loses nothing that was acknowledged', async () => {
    const s = await server();
    const c = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'crash' })).json;
    await s.api('POST', `/api/v1/channels/${c.id}/start`);
    const p = (await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'p' })).json;
    assert.equal((await s.api<Program>('POST', `/api/v1/programs/${p.id}/start`)).status, 200);
    const reset = (await s.api<Channel>('POST', `/api/v1/channels/${c.id}/reset`)).json;
    await s.kill();
    await s.start();
    const got = (await s.api<Channel>('GET', `/api/v1/channels/${c.id}`)).json;
    assert.equal(got.state, 'running');
    assert.equal(got.streamKey, reset.streamKey, 'the rotated key is the one kept');
    assert.equal((await s.api<Program>('GET', `/api/v1/programs/${p.id}`)).json.state, 'running');
  });

  void test('deleted things stay deleted after a restart', async () => {
    const s = await server();
    const c = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'doomed' })).json;
    const p = (await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'doomed' })).json;
    assert.equal((await s.api('DELETE', `/api/v1/channels/${c.id}`)).status, 204);
    await s.restart();
    assertError(await s.api('GET', `/api/v1/channels/${c.id}`), 404, 'channel_not_found');
    assertError(await s.api('GET', `/api/v1/programs/${p.id}`), 404, 'program_not_found');
  });
});

void describe('admin token', () => {
  void test('without ONAIR_ADMIN_TOKEN a token is generated into <dataDir>/admin-token (0600), printed once, and reused', async () => {
    const s = await server({ token: null });
    const file = path.join(s.dataDir, 'admin-token');
    assert.ok(existsSync(file), 'admin-token file exists');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
    const token = readFileSync(file, 'utf8').trim();
    assert.ok(token.length >= 22, `token ${token} is long enough`);
    assert.match(token, /^[\x21-\x7e]+$/);
    assert.ok(s.stderr.includes(token), 'the generated token is printed on first start');
    assert.ok(!s.stdout.includes(token), 'the token is not written to the structured log');

    const ok = await s.request('GET', '/api/v1/channels', {
      headers: { authorization: `Bearer ${token}` },
      auth: false,
    });
    assert.equal(ok.status, 200, ok.text);
    assertError(await s.request('GET', '/api/v1/channels', { auth: false }), 401, 'unauthorized');
    const created = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'with generated token' })).json;

    const stderrBefore = s.stderr.length;
    await s.restart();
    assert.equal(readFileSync(file, 'utf8').trim(), token, 'the token file is reused');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(s.token, token);
    assert.ok(!s.stderr.slice(stderrBefore).includes(token), 'the token is printed only once');
    const again = await s.request('GET', `/api/v1/channels/${created.id}`, {
      headers: { authorization: `Bearer ${token}` },
      auth: false,
    });
    assert.equal(again.status, 200, again.text);
  });

  void test('ONAIR_ADMIN_TOKEN wins over the file and writes none', async () => {
    const s = await server();
    assert.ok(!existsSync(path.join(s.dataDir, 'admin-token')), 'no token file when the token is configured');
    assertError(
      await s.request('GET', '/api/v1/channels', {
        auth: false,
        headers: { authorization: 'Bearer some-other-token-value' },
      }),
      401,
      'unauthorized',
    );
    assert.equal((await s.api('GET', '/api/v1/channels')).status, 200);
  });
});

void describe('bad configuration stops start-up with a one-line message naming the variable', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const cases: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['ONAIR_LOG_LEVEL', { ONAIR_LOG_LEVEL: 'loud' }],
    ['ONAIR_ADMIN_TOKEN', { ONAIR_ADMIN_TOKEN: 'short' }],
    ['ONAIR_ADMIN_TOKEN', { ONAIR_ADMIN_TOKEN: 'has spaces in the middle of it' }],
    ['ONAIR_PUBLIC_URL', { ONAIR_PUBLIC_URL: 'ftp://example.com' }],
    ['ONAIR_PUBLIC_URL', { ONAIR_PUBLIC_URL: 'not a url' }],
  ];
  for (const [name, bad] of cases) {
    void test(`${Object.entries(bad)[0]!.join('=')}`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'onair-badcfg-'));
      dirs.push(dataDir);
      const res = await runUntilExit({
        PORT: '0',
        HOST: '127.0.0.1',
        ONAIR_UI: '0',
        ONAIR_DATA_DIR: dataDir,
        ...bad,
      });
      assert.notEqual(res.code, 0, `exits non-zero\nstdout: ${res.stdout}`);
      assert.equal(res.signal, null);
      const message = res.stderr.trim();
      assert.ok(message.length > 0, 'says something on stderr');
      assert.equal(message.split('\n').length, 1, `one line: ${res.stderr}`);
      assert.ok(message.includes(name), `names ${name}: ${message}`);
      assert.doesNotMatch(message, /\bat .+:\d+/, 'no stack trace');
      assert.doesNotMatch(res.stdout, /listening/, 'never listened');
      assert.ok(!existsSync(path.join(dataDir, 'onair.db')), 'touched no data');
    });
  }
});
