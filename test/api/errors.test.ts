/**
 * Every bad input gets its status and the one JSON error shape
 * `{"error":{"code","message"}}`: never a 500, never a stack trace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, Program } from '../../lib/schemas.ts';
import {
  assertError,
  assertPatchRefused,
  startServer,
  TEST_TOKEN,
  type TestServer,
} from '../helpers/server.ts';

let s: TestServer;
let stopped: Channel; // a stopped channel
let running: Channel; // a running channel
let idleProgram: Program; // a stopped program on the stopped channel
before(async () => {
  s = await startServer();
  stopped = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'stopped' })).json;
  running = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'running' })).json;
  assert.equal((await s.api<Channel>('POST', `/api/v1/channels/${running.id}/start`)).json.state, 'running');
  idleProgram = (await s.api<Program>('POST', `/api/v1/channels/${stopped.id}/programs`, { name: 'idle' }))
    .json;
  assert.ok(stopped.id && running.id && idleProgram.id);
});
after(async () => {
  await s.dispose();
});

const json = { 'content-type': 'application/json' };

void describe('400 invalid_json', () => {
  for (const body of ['{', '{"name": "x",}', "{'name':'x'}", 'name=x', '{"name":"x"} trailing', '\u0000']) {
    void test(`POST /channels with ${JSON.stringify(body)}`, async () => {
      const res = await s.request('POST', '/api/v1/channels', { body, headers: json });
      assertError(res, 400, 'invalid_json');
    });
  }

  void test('an empty body where one is required', async () => {
    assertError(
      await s.request('POST', '/api/v1/channels', { body: '', headers: json }),
      400,
      'invalid_json',
    );
  });

  void test('PATCH, POST programs and start with malformed JSON', async () => {
    assertError(
      await s.request('PATCH', `/api/v1/channels/${stopped.id}`, { body: '{"name":', headers: json }),
      400,
      'invalid_json',
    );
    assertError(
      await s.request('POST', `/api/v1/channels/${stopped.id}/programs`, { body: '[', headers: json }),
      400,
      'invalid_json',
    );
    assertError(
      await s.request('POST', `/api/v1/channels/${stopped.id}/start`, { body: 'nope', headers: json }),
      400,
      'invalid_json',
    );
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${stopped.id}`)).json.state, 'stopped');
  });
});

void describe('422 validation_failed names the field', () => {
  const cases: [string, unknown, string][] = [
    ['segmentSeconds 11', { name: 'x', segmentSeconds: 11 }, 'segmentSeconds'],
    ['segmentSeconds 0', { name: 'x', segmentSeconds: 0 }, 'segmentSeconds'],
    ['segmentSeconds 2.5', { name: 'x', segmentSeconds: 2.5 }, 'segmentSeconds'],
    ['segmentSeconds "2"', { name: 'x', segmentSeconds: '2' }, 'segmentSeconds'],
    ['mode "x"', { name: 'x', mode: 'x' }, 'mode'],
    ['ladder "4k"', { name: 'x', ladder: '4k' }, 'ladder'],
    ['an unknown field', { name: 'x', colour: 'red' }, 'colour'],
    ['name missing', {}, 'name'],
    ['name empty', { name: '' }, 'name'],
    ['name blank', { name: '   ' }, 'name'],
    ['name too long', { name: 'n'.repeat(101) }, 'name'],
    ['name a number', { name: 42 }, 'name'],
    ['description too long', { name: 'x', description: 'd'.repeat(1001) }, 'description'],
    ['ingest "not-a-cidr"', { name: 'x', ingest: ['not-a-cidr'] }, 'ingest'],
    ['ingest a string', { name: 'x', ingest: 'not-a-cidr' }, 'ingest'],
    ['ingest bad prefix', { name: 'x', ingest: ['10.0.0.0/33'] }, 'ingest'],
    ['preview "999.1.1.1"', { name: 'x', preview: ['999.1.1.1'] }, 'preview'],
    [
      'ingest over 64 entries',
      { name: 'x', ingest: Array.from({ length: 65 }, (_, i) => `10.0.0.${i}`) },
      'ingest',
    ],
  ];
  for (const [label, body, field] of cases) {
    void test(`POST /channels: ${label}`, async () => {
      const res = await s.api('POST', '/api/v1/channels', body);
      const { message } = assertError(res, 422, 'validation_failed', field);
      assert.ok(message.length < 300, `message is one short line: ${message}`);
      assert.doesNotMatch(message, /\n/);
    });
  }

  for (const body of [null, [], 'channel', 42, true]) {
    void test(`POST /channels with a JSON ${JSON.stringify(body)} instead of an object`, async () => {
      const res = await s.request('POST', '/api/v1/channels', { body: JSON.stringify(body), headers: json });
      assertError(res, 422, 'validation_failed', 'object');
    });
  }

  void test('PATCH validates the same way and changes nothing', async () => {
    const refused: [Record<string, unknown>, string][] = [
      [{ segmentSeconds: 11 }, 'segmentSeconds'],
      [{ mode: 'x' }, 'mode'],
      [{ name: '' }, 'name'],
      [{ ingest: ['not-a-cidr'] }, 'ingest'],
      [{ id: 'ch_mine' }, 'id'],
      [{ streamKey: 'sk_mine' }, 'streamKey'],
      [{ state: 'running' }, 'state'],
    ];
    for (const [body, field] of refused)
      await assertPatchRefused(s, stopped.id, body, 422, 'validation_failed', field);
    const got = await s.api<Channel>('GET', `/api/v1/channels/${stopped.id}`);
    assert.deepEqual(got.json, { ...stopped, updatedAt: got.json.updatedAt });
  });

  void test('programs: archiveWindowMinutes out of range', async () => {
    const res = await s.api('POST', `/api/v1/channels/${stopped.id}/programs`, {
      name: 'p',
      archiveWindowMinutes: 1501,
    });
    assertError(res, 422, 'validation_failed', 'archiveWindowMinutes');
  });
});

void describe('401 unauthorized', () => {
  const variants: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-admin-token-at-all' }],
    ['the token with one character changed', { authorization: `Bearer ${TEST_TOKEN.slice(0, -1)}X` }],
    ['a prefix of the token', { authorization: `Bearer ${TEST_TOKEN.slice(0, 16)}` }],
    ['the token plus a suffix', { authorization: `Bearer ${TEST_TOKEN}x` }],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`admin:${TEST_TOKEN}`).toString('base64')}` }],
    ['"Bearer" with no token', { authorization: 'Bearer' }],
    ['the raw token without "Bearer"', { authorization: TEST_TOKEN }],
  ];
  for (const [label, headers] of variants) {
    void test(label, async () => {
      const res = await s.request('GET', '/api/v1/channels', { auth: false, headers });
      assertError(res, 401, 'unauthorized');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      assert.ok(!res.text.includes(TEST_TOKEN), 'the token is never echoed');
    });
  }

  void test('every /api route needs the token, even unknown ones, and writes are refused', async () => {
    for (const [method, path] of [
      ['GET', `/api/v1/channels/${stopped.id}`],
      ['POST', `/api/v1/channels/${running.id}/stop`],
      ['DELETE', `/api/v1/channels/${stopped.id}`],
      ['GET', '/api/v1/assets'],
      ['GET', '/api/v1/nope'],
      ['GET', '/api'],
    ] as const) {
      const res = await s.request(method, path, { auth: false });
      assertError(res, 401, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    const create = await s.request('POST', '/api/v1/channels', { auth: false, body: { name: 'intruder' } });
    assertError(create, 401, 'unauthorized');
    // Nothing happened.
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${running.id}`)).json.state, 'running');
    assert.equal((await s.api('GET', `/api/v1/channels/${stopped.id}`)).status, 200);
  });

  void test('the token in the query string does not count', async () => {
    assertError(
      await s.request('GET', `/api/v1/channels?token=${TEST_TOKEN}`, { auth: false }),
      401,
      'unauthorized',
    );
  });

  void test('the scheme is case-insensitive', async () => {
    const res = await s.request('GET', '/api/v1/channels', {
      auth: false,
      headers: { authorization: `bearer ${TEST_TOKEN}` },
    });
    assert.equal(res.status, 200, res.text);
  });
});

void describe('404 unknown ids and endpoints', () => {
  const ch = '/api/v1/channels/ch_zzzzzzzzzzzzzz';
  const pg = '/api/v1/programs/pg_zzzzzzzzzzzzzz';
  const as = '/api/v1/assets/as_zzzzzzzzzzzzzz';
  const cases: [string, string, unknown, string][] = [
    ['GET', ch, undefined, 'channel_not_found'],
    ['PATCH', ch, { name: 'x' }, 'channel_not_found'],
    ['DELETE', ch, undefined, 'channel_not_found'],
    ['POST', `${ch}/start`, undefined, 'channel_not_found'],
    ['POST', `${ch}/stop`, undefined, 'channel_not_found'],
    ['POST', `${ch}/reset`, undefined, 'channel_not_found'],
    ['GET', `${ch}/programs`, undefined, 'channel_not_found'],
    ['POST', `${ch}/programs`, { name: 'x' }, 'channel_not_found'],
    ['GET', pg, undefined, 'program_not_found'],
    ['DELETE', pg, undefined, 'program_not_found'],
    ['POST', `${pg}/start`, undefined, 'program_not_found'],
    ['POST', `${pg}/stop`, undefined, 'program_not_found'],
    ['GET', as, undefined, 'asset_not_found'],
    ['DELETE', as, undefined, 'asset_not_found'],
  ];
  for (const [method, path, body, code] of cases) {
    void test(`${method} ${path.replace(/_z+/, '_<unknown>')} → ${code}`, async () => {
      const res = await s.api(method, path, body);
      assertError(res, 404, code, 'zzzzzzzzzzzzzz');
    });
  }

  void test('an id of another kind is not found either', async () => {
    assertError(await s.api('GET', `/api/v1/programs/${stopped.id}`), 404, 'program_not_found');
    assertError(await s.api('GET', `/api/v1/channels/${idleProgram.id}`), 404, 'channel_not_found');
  });

  void test('odd ids are plain 404s', async () => {
    assertError(
      await s.api('GET', `/api/v1/channels/${encodeURIComponent("' OR 1=1 --")}`),
      404,
      'channel_not_found',
    );
    assertError(await s.api('GET', `/api/v1/channels/${'x'.repeat(2000)}`), 404, 'channel_not_found');
    // A broken percent-escape is a bad request, before any other work.
    assertError(await s.api('GET', '/api/v1/channels/%E0%A4%A'), 400, 'bad_request', /percent-encoding/);
  });

  for (const path of [
    '/api/v1/nope',
    '/api/v2/channels',
    '/api/v1',
    '/api',
    '/api/v1/channels/x/y/z',
    '/api/v1/channels/x/launch',
  ]) {
    void test(`unknown endpoint ${path} → 404 not_found`, async () => {
      assertError(await s.api('GET', path), 404, 'not_found');
    });
  }
});

void describe('405 method not allowed', () => {
  const cases: [string, string, string][] = [
    ['PUT', '/api/v1/channels', 'GET, POST'],
    ['DELETE', '/api/v1/channels', 'GET, POST'],
    ['PUT', '/api/v1/channels/ch_zzzzzzzzzzzzzz', 'DELETE'],
    ['GET', '/api/v1/channels/ch_zzzzzzzzzzzzzz/start', 'POST'],
    ['POST', '/api/v1/assets', 'GET'],
    ['PATCH', '/api/v1/programs/pg_zzzzzzzzzzzzzz', 'GET'],
  ];
  for (const [method, path, mustAllow] of cases) {
    void test(`${method} ${path}`, async () => {
      const res = await s.api(method, path);
      assertError(res, 405, 'method_not_allowed', method);
      const allow = String(res.headers.allow ?? '');
      for (const m of mustAllow.split(', '))
        assert.ok(allow.split(/,\s*/).includes(m), `Allow: ${allow} lacks ${m}`);
      assert.ok(!allow.split(/,\s*/).includes(method), `Allow: ${allow} lists ${method}`);
    });
  }
});

void describe('409 state conflicts', () => {
  void test('delete a running channel → channel_running', async () => {
    assertError(await s.api('DELETE', `/api/v1/channels/${running.id}`), 409, 'channel_running');
  });

  void test('change the ladder of a running channel → channel_running', async () => {
    assertError(
      await s.api('PATCH', `/api/v1/channels/${running.id}`, { ladder: '480p' }),
      409,
      'channel_running',
      'ladder',
    );
  });

  void test('start a program on a stopped channel → channel_not_running', async () => {
    assertError(await s.api('POST', `/api/v1/programs/${idleProgram.id}/start`), 409, 'channel_not_running');
  });

  void test('a 4th running program → program_limit_reached; delete a running program → program_running', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (await s.api<Program>('POST', `/api/v1/channels/${running.id}/programs`, { name: `p${i}` })).json.id,
      );
    }
    for (const id of ids.slice(0, 3))
      assert.equal((await s.api('POST', `/api/v1/programs/${id}/start`)).status, 200);
    assertError(await s.api('POST', `/api/v1/programs/${ids[3]}/start`), 409, 'program_limit_reached', '3');
    assertError(await s.api('DELETE', `/api/v1/programs/${ids[0]}`), 409, 'program_running');
  });
});

void describe('413 payload_too_large', () => {
  const big = JSON.stringify({ name: 'x', description: 'd'.repeat(70 * 1024) });

  void test('a body over 64 KiB with Content-Length', async () => {
    assertError(
      await s.request('POST', '/api/v1/channels', { body: big, headers: json }),
      413,
      'payload_too_large',
    );
  });

  void test('a body over 64 KiB sent chunked (no Content-Length)', async () => {
    const res = await s.request('POST', '/api/v1/channels', { body: big, headers: json, chunked: true });
    assertError(res, 413, 'payload_too_large');
  });

  void test('PATCH and POST programs too', async () => {
    assertError(
      await s.request('PATCH', `/api/v1/channels/${stopped.id}`, { body: big, headers: json }),
      413,
      'payload_too_large',
    );
    assertError(
      await s.request('POST', `/api/v1/channels/${stopped.id}/programs`, { body: big, headers: json }),
      413,
      'payload_too_large',
    );
  });

  void test('exactly 64 KiB is not too large (it fails validation instead)', async () => {
    const base = JSON.stringify({ name: 'x', description: '' });
    const body = JSON.stringify({ name: 'x', description: 'd'.repeat(64 * 1024 - base.length) });
    assert.equal(Buffer.byteLength(body), 64 * 1024);
    assertError(
      await s.request('POST', '/api/v1/channels', { body, headers: json }),
      422,
      'validation_failed',
      'description',
    );
  });

  void test('the server still answers after refusing big bodies', async () => {
    const res = await s.api('GET', '/api/v1/channels');
    assert.equal(res.status, 200);
  });
});

void describe('415 unsupported_media_type', () => {
  const body = JSON.stringify({ name: 'x' });
  for (const type of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'text/json',
  ]) {
    void test(`POST /channels as ${type}`, async () => {
      const res = await s.request('POST', '/api/v1/channels', { body, headers: { 'content-type': type } });
      assertError(res, 415, 'unsupported_media_type');
    });
  }

  void test('POST /channels with no Content-Type', async () => {
    assertError(await s.request('POST', '/api/v1/channels', { body }), 415, 'unsupported_media_type');
  });

  void test('PATCH and POST programs as text/plain', async () => {
    const text = { 'content-type': 'text/plain' };
    assertError(
      await s.request('PATCH', `/api/v1/channels/${stopped.id}`, { body, headers: text }),
      415,
      'unsupported_media_type',
    );
    assertError(
      await s.request('POST', `/api/v1/channels/${stopped.id}/programs`, { body, headers: text }),
      415,
      'unsupported_media_type',
    );
  });

  void test('start with a non-JSON body', async () => {
    const res = await s.request('POST', `/api/v1/channels/${stopped.id}/start`, {
      body: 'go',
      headers: { 'content-type': 'text/plain' },
    });
    assertError(res, 415, 'unsupported_media_type');
    assert.equal((await s.api<Channel>('GET', `/api/v1/channels/${stopped.id}`)).json.state, 'stopped');
  });

  void test('application/json with parameters and in capitals is JSON', async () => {
    const a = await s.request('POST', '/api/v1/channels', {
      body,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(a.status, 201, a.text);
    const b = await s.request('POST', '/api/v1/channels', {
      body,
      headers: { 'content-type': 'Application/JSON' },
    });
    assert.equal(b.status, 201, b.text);
  });
});

void describe('afterwards', () => {
  void test('no bad input made the server log an error or die', async () => {
    assert.deepEqual(s.errorLogs(), [], 'the server logged errors (500s)');
    assert.equal(s.exitCode, null);
    assert.equal((await s.request('GET', '/healthz', { auth: false })).status, 200);
  });
});
