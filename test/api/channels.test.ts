/** Channels against the real server process: CRUD, pagination, start/stop/reset, PATCH rules, /healthz, /metrics. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, Page, Program } from '../../lib/schemas.ts';
import { assertError, assertPatchRefused, startServer, type TestServer } from '../helpers/server.ts';
import { createChannel as createChannelIn } from '../helpers/live-channel.ts';
import { assertChannelDefaults } from '../helpers/channel-defaults.ts';

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.dispose();
});

const createChannel = (body: Record<string, unknown> = {}): Promise<Channel> =>
  createChannelIn(s, { name: 'test channel', ...body });

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in /metrics:\n${text}`);
  return Number(line.slice(series.length + 1));
}

void describe('channels', () => {
  void test('POST creates a channel with defaults, an unguessable stream key and its URLs', async () => {
    const res = await s.api<Channel>('POST', '/api/v1/channels', { name: 'Studio A' });
    assert.equal(res.status, 201, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const c = res.json;
    assert.match(c.id, /^[A-Za-z0-9_-]{8,}$/, 'id must be URL-safe');
    assert.equal(encodeURIComponent(c.id), c.id);
    assert.equal(c.name, 'Studio A');
    assertChannelDefaults(c);
    // ≥ 128 bits of randomness: the random part is base64url, ≥ 22 characters (6 bits each).
    // The key is "<prefix>_<random>"; the random part itself may contain "_".
    const random = c.streamKey.slice(c.streamKey.indexOf('_') + 1);
    assert.match(random, /^[A-Za-z0-9_-]+$/);
    assert.ok(random.length * 6 >= 128, `stream key ${c.streamKey} has under 128 bits`);
    assert.ok(!Number.isNaN(Date.parse(c.createdAt)));
    assert.ok(!Number.isNaN(Date.parse(c.updatedAt)));
    const base = s.url;
    assert.equal(c.urls.whip, `${base}/whip/${c.id}`);
    assert.equal(c.urls.whep, `${base}/whep/${c.id}`);
    assert.equal(c.urls.hls, `${base}/live/${c.id}/master.m3u8`);
    assert.equal(c.urls.dash, `${base}/live/${c.id}/manifest.mpd`);
    assert.equal(c.urls.watch, `${base}/watch/${c.id}`);
    assert.equal(c.urls.embed, `${base}/embed/${c.id}`);
  });

  void test('two channels get different ids and stream keys', async () => {
    const a = await createChannel();
    const b = await createChannel();
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.streamKey, b.streamKey);
  });

  void test('POST accepts every field', async () => {
    const c = await createChannel({
      name: 'Full',
      description: 'all fields',
      mode: 'passthrough',
      ladder: '1080p',
      segmentSeconds: 4,
      ingest: ['10.0.0.0/8', '192.168.1.7'],
      preview: ['2001:db8::/32'],
    });
    assert.equal(c.description, 'all fields');
    assert.equal(c.mode, 'passthrough');
    assert.equal(c.ladder, '1080p');
    assert.equal(c.segmentSeconds, 4);
    assert.deepEqual(c.ingest, ['10.0.0.0/8', '192.168.1.7']);
    assert.deepEqual(c.preview, ['2001:db8::/32']);
    const got = await s.api<Channel>('GET', `/api/v1/channels/${c.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, c);
  });

  void test('GET /channels paginates with limit, offset and total', async () => {
    for (let i = 0; i < 5; i++) await createChannel({ name: `page ${i}` });
    const all = await s.api<Page<Channel>>('GET', '/api/v1/channels?limit=200');
    assert.equal(all.status, 200);
    const total = all.json.total;
    assert.ok(total >= 5);
    assert.equal(all.json.items.length, total);
    assert.equal(all.json.limit, 200);
    assert.equal(all.json.offset, 0);

    const p1 = await s.api<Page<Channel>>('GET', '/api/v1/channels?limit=2&offset=0');
    const p2 = await s.api<Page<Channel>>('GET', '/api/v1/channels?limit=2&offset=2');
    assert.equal(p1.json.items.length, 2);
    assert.equal(p2.json.items.length, 2);
    assert.equal(p1.json.total, total);
    assert.equal(p1.json.limit, 2);
    assert.equal(p2.json.offset, 2);
    const ids = [...p1.json.items, ...p2.json.items].map((c) => c.id);
    assert.equal(new Set(ids).size, 4, 'pages must not overlap');
    assert.deepEqual(
      ids,
      all.json.items.slice(0, 4).map((c) => c.id),
      'pages follow the full list order',
    );

    const past = await s.api<Page<Channel>>('GET', `/api/v1/channels?offset=${total}`);
    assert.equal(past.status, 200);
    assert.deepEqual(past.json.items, []);
    assert.equal(past.json.total, total);

    const dflt = await s.api<Page<Channel>>('GET', '/api/v1/channels');
    assert.equal(dflt.json.limit, 50);
    assert.equal(dflt.json.offset, 0);
  });

  void test('bad pagination parameters are 422 naming the parameter', async () => {
    assertError(await s.api('GET', '/api/v1/channels?limit=0'), 422, 'validation_failed', 'limit');
    assertError(await s.api('GET', '/api/v1/channels?limit=201'), 422, 'validation_failed', 'limit');
    assertError(await s.api('GET', '/api/v1/channels?limit=abc'), 422, 'validation_failed', 'limit');
    assertError(await s.api('GET', '/api/v1/channels?offset=-1'), 422, 'validation_failed', 'offset');
  });

  void test('PATCH renames and edits a stopped channel, including mode and ladder', async () => {
    const c = await createChannel({ name: 'before' });
    await new Promise((r) => setTimeout(r, 5));
    const res = await s.api<Channel>('PATCH', `/api/v1/channels/${c.id}`, {
      name: 'after',
      description: 'd',
      mode: 'passthrough',
      ladder: '480p',
      segmentSeconds: 6,
      ingest: ['127.0.0.1'],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, 'after');
    assert.equal(res.json.description, 'd');
    assert.equal(res.json.mode, 'passthrough');
    assert.equal(res.json.ladder, '480p');
    assert.equal(res.json.segmentSeconds, 6);
    assert.deepEqual(res.json.ingest, ['127.0.0.1']);
    assert.equal(res.json.streamKey, c.streamKey, 'PATCH keeps the stream key');
    assert.equal(res.json.createdAt, c.createdAt);
    assert.ok(Date.parse(res.json.updatedAt) > Date.parse(c.updatedAt), 'updatedAt moves forward');
    const got = await s.api<Channel>('GET', `/api/v1/channels/${c.id}`);
    assert.equal(got.json.name, 'after');
    assert.equal(got.json.ladder, '480p');
  });

  void test('start → running, stop → stopped; both are idempotent', async () => {
    const c = await createChannel();
    const started = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/start`);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.json.state, 'running');
    const again = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/start`);
    assert.equal(again.status, 200);
    assert.equal(again.json.state, 'running');
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${c.id}`)).json.state, 'running');

    const stopped = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/stop`);
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.json.state, 'stopped');
    const again2 = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/stop`);
    assert.equal(again2.status, 200);
    assert.equal(again2.json.state, 'stopped');
  });

  void test('start accepts an empty JSON object body too', async () => {
    const c = await createChannel();
    const res = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/start`, {});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.state, 'running');
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('reset rotates the stream key and keeps everything else', async () => {
    const c = await createChannel({ name: 'resettable' });
    const res = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/reset`);
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.json.streamKey, c.streamKey);
    assert.ok(res.json.streamKey.length >= c.streamKey.length);
    assert.equal(res.json.id, c.id);
    assert.equal(res.json.name, 'resettable');
    assert.equal(res.json.state, 'stopped');
    const got = await s.api<Channel>('GET', `/api/v1/channels/${c.id}`);
    assert.equal(got.json.streamKey, res.json.streamKey, 'the new key is persisted');
  });

  void test('reset works on a running channel and keeps it running', async () => {
    const c = await createChannel();
    await s.api('POST', `/api/v1/channels/${c.id}/start`);
    const res = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/reset`);
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.json.streamKey, c.streamKey);
    assert.equal(res.json.state, 'running');
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('a running channel may be renamed but not change mode, ladder or segmentSeconds (409 channel_running)', async () => {
    const c = await createChannel();
    await s.api('POST', `/api/v1/channels/${c.id}/start`);

    const renamed = await s.api<Channel>('PATCH', `/api/v1/channels/${c.id}`, {
      name: 'renamed live',
      description: 'x',
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.name, 'renamed live');
    assert.equal(renamed.json.state, 'running');

    await assertPatchRefused(s, c.id, { mode: 'passthrough' }, 409, 'channel_running', 'mode');
    await assertPatchRefused(s, c.id, { ladder: '1080p' }, 409, 'channel_running', 'ladder');
    await assertPatchRefused(s, c.id, { segmentSeconds: 4 }, 409, 'channel_running', 'segmentSeconds');
    // A refused PATCH changes nothing, not even the fields that were allowed.
    await assertPatchRefused(s, c.id, { name: 'sneaky', ladder: '480p' }, 409, 'channel_running');
    const still = await s.api<Channel>('GET', `/api/v1/channels/${c.id}`);
    assert.equal(still.json.name, 'renamed live');
    assert.equal(still.json.mode, 'encode');
    assert.equal(still.json.ladder, '720p');

    // Sending the current value is not a change.
    const same = await s.api<Channel>('PATCH', `/api/v1/channels/${c.id}`, {
      mode: 'encode',
      ladder: '720p',
    });
    assert.equal(same.status, 200, same.text);

    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    const changed = await s.api<Channel>('PATCH', `/api/v1/channels/${c.id}`, {
      mode: 'passthrough',
      ladder: '1080p',
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.mode, 'passthrough');
    assert.equal(changed.json.ladder, '1080p');
  });

  void test('a running channel cannot be deleted (409); a stopped one can (204), then it is gone (404)', async () => {
    const c = await createChannel();
    await s.api('POST', `/api/v1/channels/${c.id}/start`);
    assertError(await s.api('DELETE', `/api/v1/channels/${c.id}`), 409, 'channel_running');
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${c.id}`)).status, 200);

    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    const del = await s.api('DELETE', `/api/v1/channels/${c.id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertError(await s.api('GET', `/api/v1/channels/${c.id}`), 404, 'channel_not_found', c.id);
    assertError(await s.api('DELETE', `/api/v1/channels/${c.id}`), 404, 'channel_not_found');
    const list = await s.api<Page<Channel>>('GET', '/api/v1/channels?limit=200');
    assert.ok(!list.json.items.some((x) => x.id === c.id));
  });

  void test('deleting a stopped channel deletes its stopped programs', async () => {
    const c = await createChannel();
    const p1 = (await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'never started' }))
      .json;
    await s.api('POST', `/api/v1/channels/${c.id}/start`);
    const p2 = (await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'recorded' })).json;
    assert.equal((await s.api<Program>('POST', `/api/v1/programs/${p2.id}/start`)).json.state, 'running');
    // Stopping the channel stops (and keeps) its programs.
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
    const p2after = await s.api<Program>('GET', `/api/v1/programs/${p2.id}`);
    assert.equal(p2after.json.state, 'stopped');
    assert.ok(p2after.json.assetId, 'stopping the channel closed the recording');

    const del = await s.api('DELETE', `/api/v1/channels/${c.id}`);
    assert.equal(del.status, 204, del.text);
    assertError(await s.api('GET', `/api/v1/programs/${p1.id}`), 404, 'program_not_found', p1.id);
    assertError(await s.api('GET', `/api/v1/programs/${p2.id}`), 404, 'program_not_found');
    assertError(await s.api('GET', `/api/v1/channels/${c.id}/programs`), 404, 'channel_not_found');
  });
});

void describe('health and metrics', () => {
  void test('/healthz answers 200 {"status":"ok"} without a token, naming the SFU engine', async () => {
    const res = await s.request('GET', '/healthz', { auth: false });
    assert.equal(res.status, 200);
    const health = res.json as { status: string; details: { sfu: { engine: string; reason: string } } };
    assert.equal(health.status, 'ok');
    // The engine the suite runs on (werift unless ONAIR_SFU=mediasoup), and why.
    const engine = process.env.ONAIR_SFU ?? 'werift';
    assert.equal(health.details.sfu.engine, engine);
    assert.match(health.details.sfu.reason, new RegExp(`^ONAIR_SFU=${engine}\\b`));
  });

  void test('/metrics is Prometheus text with channels by state and running programs', async () => {
    const res0 = await s.request('GET', '/metrics', { auth: false });
    assert.equal(res0.status, 200);
    assert.match(String(res0.headers['content-type']), /^text\/plain/);
    assert.match(res0.text, /# TYPE onair_channels gauge/);
    assert.match(res0.text, /# TYPE onair_programs_running gauge/);
    assert.match(res0.text, /^process_resident_memory_bytes \d+/m);
    const running0 = metricValue(res0.text, 'onair_channels{state="running"}');
    const stopped0 = metricValue(res0.text, 'onair_channels{state="stopped"}');
    const programs0 = metricValue(res0.text, 'onair_programs_running');

    const a = await createChannel({ name: 'metrics a' });
    const b = await createChannel({ name: 'metrics b' });
    await s.api('POST', `/api/v1/channels/${a.id}/start`);
    await s.api('POST', `/api/v1/channels/${b.id}/start`);
    const p = (await s.api<Program>('POST', `/api/v1/channels/${a.id}/programs`, { name: 'm' })).json;
    await s.api('POST', `/api/v1/programs/${p.id}/start`);

    const res1 = await s.request('GET', '/metrics', { auth: false });
    assert.equal(metricValue(res1.text, 'onair_channels{state="running"}'), running0 + 2);
    assert.equal(metricValue(res1.text, 'onair_channels{state="stopped"}'), stopped0);
    assert.equal(metricValue(res1.text, 'onair_programs_running'), programs0 + 1);

    await s.api('POST', `/api/v1/channels/${a.id}/stop`);
    await s.api('POST', `/api/v1/channels/${b.id}/stop`);
    const res2 = await s.request('GET', '/metrics', { auth: false });
    assert.equal(metricValue(res2.text, 'onair_channels{state="running"}'), running0);
    assert.equal(metricValue(res2.text, 'onair_channels{state="stopped"}'), stopped0 + 2);
    assert.equal(metricValue(res2.text, 'onair_programs_running'), programs0);
  });

  void test('no request so far logged an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
