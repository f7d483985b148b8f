/**
 * A bounded property-based fuzz (fast-check) of the JSON API against the real
 * server process: random JSON values, objects with the real field names and
 * hostile values, raw bytes that are not JSON, odd content types, odd paths
 * and queries. Whatever comes in, the answer is a 2xx or a 4xx in the one
 * error shape — never a 5xx or a stack trace — and the server stays healthy
 * with nothing logged as an error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Channel } from '../../lib/schemas.ts';
import { assertNoLeak, startServer, type Reply, type TestServer } from '../helpers/server.ts';

const SEED = 1313;
const RUNS = 300;
/** Each property stops early past this, so the suite stays bounded on a busy machine. */
const TIME_LIMIT_MS = 20_000;

let s: TestServer;
let ch: Channel;
const seen = { requests: 0, byStatus: new Map<number, number>() };

before(async () => {
  // Failed sign-ins are part of the fuzz: a high failure limit keeps the fuzz's own address usable.
  s = await startServer({ env: { ONAIR_AUTH_FAILURE_LIMIT: '10000' } });
  const res = await s.api<Channel>('POST', '/api/v1/channels', { name: 'fuzz target' });
  assert.equal(res.status, 201, res.text);
  ch = res.json;
});

after(async () => {
  await s?.dispose();
});

/** Checks one answer: below 500, and an error answer has the one JSON error shape. */
function check(res: Reply, what: string): boolean {
  seen.requests++;
  seen.byStatus.set(res.status, (seen.byStatus.get(res.status) ?? 0) + 1);
  assert.ok(res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 300)}`);
  if (res.status >= 400) {
    assertNoLeak(res.text);
    const body = res.json as { error?: { code?: unknown; message?: unknown } } | undefined;
    assert.ok(
      body?.error && typeof body.error.code === 'string',
      `${what} → ${res.status} not the error shape: ${res.text}`,
    );
  }
  return true;
}

const FIELDS = [
  'name',
  'description',
  'mode',
  'ladder',
  'segmentSeconds',
  'ingest',
  'preview',
  'playback',
  'archiveWindowMinutes',
  'expiresInSeconds',
  'programId',
  'assetId',
  'url',
  'events',
  'token',
  '__proto__',
  'constructor',
] as const;

/** Values that have broken servers before: odd text, odd numbers, deep and wide structures. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '🎥'.repeat(60),
    'x'.repeat(5000),
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'encode',
    'passthrough',
    '720p',
    'token',
    'public',
    '10.0.0.0/8',
    '*',
    'channel.started',
    'http://127.0.0.1:1/x',
    'pg_00000000000000',
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e308, -0, 2 ** 53, 60, 3600),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 30 }), { maxLength: 70 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
);

const fieldBody = fc.dictionary(fc.constantFrom(...FIELDS), nasty, { maxKeys: 5 });
const anyJson = fc.jsonValue({ maxDepth: 4 });

const ENDPOINTS: [string, () => string][] = [
  ['POST', () => '/api/v1/channels'],
  ['PATCH', () => `/api/v1/channels/${ch.id}`],
  ['POST', () => `/api/v1/channels/${ch.id}/programs`],
  ['POST', () => `/api/v1/channels/${ch.id}/playback-tokens`],
  ['POST', () => `/api/v1/channels/${ch.id}/reset`],
  ['POST', () => '/api/v1/webhooks'],
  ['POST', () => '/auth/session'],
];

void describe('API fuzz', () => {
  void test('JSON bodies, with real field names and hostile values, on every endpoint that takes one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(fieldBody, anyJson),
        async ([method, path], body) => {
          const res = await s.request(method, path(), {
            body: JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          });
          return check(res, `${method} ${path()} ${JSON.stringify(body).slice(0, 200)}`);
        },
      ),
      { seed: SEED, numRuns: RUNS * 3, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  void test('raw bytes that are not JSON, and odd content types', async () => {
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
      'application/sdp',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 500 }),
          fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)),
        ),
        contentType,
        async ([method, path], body, type) => {
          const res = await s.request(method, path(), {
            body: typeof body === 'string' ? Buffer.from(body) : body,
            headers: type ? { 'content-type': type } : {},
          });
          return check(res, `${method} ${path()} (${type}) ${body.length} bytes`);
        },
      ),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  void test('odd paths and queries under /api, /live, /whip and /auth', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom(
        '%',
        '%ZZ',
        '%00',
        '..',
        '.',
        't',
        ch.id,
        'master.m3u8',
        'sessions',
        'playback-tokens',
        '%E0%A4%A',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/v1', '/api/v1/channels', '/live', '/whip', '/auth', '/api/v1/webhooks'),
        fc.array(segment, { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('limit', 'offset', 'token', 'x'), fc.string({ maxLength: 12 }), {
          maxKeys: 3,
        }),
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        async (root, segs, query, method) => {
          const q = new URLSearchParams(query).toString();
          const path = `${root}/${segs.join('/')}${q ? `?${q}` : ''}`;
          const res = await s.request(method, path);
          seen.requests++;
          assert.ok(res.status < 500, `${method} ${path} → ${res.status} ${res.text.slice(0, 300)}`);
          if (method !== 'HEAD') assertNoLeak(res.text);
          return true;
        },
      ),
      { seed: SEED, numRuns: RUNS * 2, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  void test('afterwards the server is healthy and logged no error', async () => {
    const health = await s.request('GET', '/healthz', { auth: false });
    assert.equal(health.status, 200);
    assert.equal(s.exitCode, null);
    assert.deepEqual(s.errorLogs(), []);
    const list = await s.api<{ total: number }>('GET', '/api/v1/channels');
    assert.equal(list.status, 200);
    console.log(
      `  · fuzz: ${seen.requests} requests, statuses ${JSON.stringify(Object.fromEntries([...seen.byStatus].sort()))}`,
    );
    assert.ok(seen.requests >= 100, `the fuzz ran: ${seen.requests} requests`);
  });
});
