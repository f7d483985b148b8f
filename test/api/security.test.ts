/**
 * The hardening items of the security review, one regression test each, against
 * the real server process:
 *  1. CSRF from a page on another port of the same host
 *  2. failed authentications limited across /api, /whip and sign-in (Retry-After, successes free)
 *  3. ONAIR_TRUST_PROXY: one client behind a proxy cannot lock out another
 *  5. /metrics: a token when configured; no restricted channel ids when public
 *  6. sign-out and admin-token rotation end server-side sessions
 *  7. no-store and security headers on API and console answers (pages: e2e/security.spec.ts)
 *  8. the Host header is not reflected into URLs
 *  9. limits on channels and running channels; names without control characters
 * (4, embed.js, is a browser test: e2e/security.spec.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Channel, PlaybackToken } from '../../lib/schemas.ts';
import { assertError, startServer, TestServer, type Reply } from '../helpers/server.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { header } from '../helpers/replies.ts';
import { weriftOffer } from '../helpers/sdp-offers.ts';

const METRICS_TOKEN = 'metrics-token-0123456789';
const FAILURE_LIMIT = 5;

/** Every reply: none may be a 5xx, and every 429 must say when to come back. */
const replies: Reply[] = [];
function keep<T>(res: Reply<T>): Reply<T> {
  replies.push(res);
  return res;
}

/** A client behind the trusted proxy (server A trusts 127.0.0.1, where every test request comes from). */
const from = (ip: string) => ({ 'x-forwarded-for': ip });

async function createChannel(s: TestServer, body: Record<string, unknown> = {}): Promise<Channel> {
  const res = keep(await s.api<Channel>('POST', '/api/v1/channels', { name: 'security test', ...body }));
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function start(s: TestServer, id: string): Promise<Reply<Channel>> {
  return keep(await s.api<Channel>('POST', `/api/v1/channels/${id}/start`));
}

/** Signs in over /auth/session and returns the session cookie ("onair_session=…"). */
async function signIn(s: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const res = keep(
    await s.request('POST', '/auth/session', { auth: false, body: { token: s.token }, headers }),
  );
  assert.equal(res.status, 200, res.text);
  const cookie = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
  assert.match(cookie, /^onair_session=s1\.[\w-]{43};/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  return cookie.split(';')[0]!;
}

/** A request with the console's cookie only (no bearer token), as a browser would send it. */
function withCookie(
  s: TestServer,
  cookie: string,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  return s.request(method, urlPath, { auth: false, body, headers: { cookie, ...headers } }).then(keep);
}

let a: TestServer; // trusts 127.0.0.1 as a proxy, metrics token, tight failure limit
let b: TestServer; // defaults: public metrics, no trusted proxy

before(async () => {
  [a, b] = await Promise.all([
    startServer({
      env: {
        ONAIR_TRUST_PROXY: '127.0.0.1',
        ONAIR_METRICS_TOKEN: METRICS_TOKEN,
        ONAIR_AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT),
        ONAIR_LOOPBACK_ONLY_ICE: '1',
      },
    }),
    startServer({ env: { ONAIR_AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT) } }),
  ]);
});

after(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
});

void describe('1. CSRF: the console cookie changes nothing from another origin', () => {
  void test('a page on another port of the same host cannot reset a stream key, even with an empty body', async () => {
    const cookie = await signIn(a);
    const c = await createChannel(a, { name: 'csrf target' });
    const reset = `/api/v1/channels/${c.id}/reset`;
    const otherPort = `http://127.0.0.1:${Number(new URL(a.url).port) + 1}`;
    const attempts: Record<string, string>[] = [
      { origin: otherPort }, // an old browser: Origin only
      { origin: otherPort, 'sec-fetch-site': 'same-site' }, // a modern browser, same host, other port
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      {}, // neither header
      { origin: 'null' }, // a sandboxed frame
    ];
    for (const headers of attempts) {
      assertError(await withCookie(a, cookie, 'POST', reset, headers), 403, 'cross_origin_request');
    }
    // A form post (urlencoded, or text/plain) is refused before its body is read.
    const form = await a
      .request('POST', reset, {
        auth: false,
        body: 'a=1',
        headers: { cookie, origin: otherPort, 'content-type': 'application/x-www-form-urlencoded' },
      })
      .then(keep);
    assertError(form, 403, 'cross_origin_request');
    assertError(
      await withCookie(a, cookie, 'DELETE', `/api/v1/channels/${c.id}`, { origin: otherPort }),
      403,
      'cross_origin_request',
    );
    const still = keep(await a.api<Channel>('GET', `/api/v1/channels/${c.id}`));
    assert.equal(still.status, 200);
    assert.equal(still.json.streamKey, c.streamKey, 'the stream key did not change');
    // Reading with the cookie is fine (another origin cannot read the answer anyway).
    assert.equal(
      (await withCookie(a, cookie, 'GET', `/api/v1/channels/${c.id}`, { origin: otherPort })).status,
      200,
    );
  });

  void test("the console's own requests pass: Sec-Fetch-Site same-origin, or this server's Origin", async () => {
    const cookie = await signIn(a);
    const c = await createChannel(a, { name: 'csrf ok' });
    const reset = `/api/v1/channels/${c.id}/reset`;
    const r1 = await withCookie(a, cookie, 'POST', reset, { 'sec-fetch-site': 'same-origin' });
    assert.equal(r1.status, 200, r1.text);
    const r2 = await withCookie(a, cookie, 'POST', reset, { origin: new URL(a.url).origin });
    assert.equal(r2.status, 200, r2.text);
    assert.notEqual((r2.json as Channel).streamKey, c.streamKey);
    // A bearer token is not sent by browsers on their own: no origin check for it.
    const r3 = keep(await a.request('POST', reset, { headers: { origin: 'https://evil.example' } }));
    assert.equal(r3.status, 200, r3.text);
  });

  void test('sign-out from another origin is refused; the session stays', async () => {
    const cookie = await signIn(a);
    assertError(
      await withCookie(a, cookie, 'DELETE', '/auth/session', { 'sec-fetch-site': 'same-site' }),
      403,
      'cross_origin_request',
    );
    assert.equal((await withCookie(a, cookie, 'GET', '/api/v1/channels')).status, 200);
  });
});

void describe('2. failed authentications are limited per client', () => {
  const assertLimited = (res: Reply) => {
    assertError(res, 429, 'rate_limited');
    const retry = Number(header(res, 'retry-after'));
    assert.ok(
      Number.isInteger(retry) && retry >= 1 && retry <= 60,
      `Retry-After ${header(res, 'retry-after')}`,
    );
  };

  void test('wrong admin tokens on /api → 401 until the limit, then 429 on /api, /whip and sign-in alike', async () => {
    const x = from('198.51.100.10');
    const c = await createChannel(a, { name: 'limited' });
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const res = keep(
        await a.request('GET', '/api/v1/channels', {
          auth: false,
          headers: { ...x, authorization: `Bearer wrong-${i}` },
        }),
      );
      assertError(res, 401, 'unauthorized');
    }
    assertLimited(
      keep(
        await a.request('GET', '/api/v1/channels', {
          auth: false,
          headers: { ...x, authorization: 'Bearer wrong' },
        }),
      ),
    );
    // Blocked means blocked: even the right token waits (else guessing would go on, 429 vs 200).
    assertLimited(keep(await a.request('GET', '/api/v1/channels', { headers: x })));
    assertLimited(
      keep(await a.request('POST', '/auth/session', { auth: false, body: { token: a.token }, headers: x })),
    );
    const whip = keep(
      await a.request('POST', `/whip/${c.id}`, {
        auth: false,
        body: 'v=0',
        headers: { ...x, 'content-type': 'application/sdp', authorization: `Bearer ${c.streamKey}` },
      }),
    );
    assertLimited(whip);
    assert.equal(header(whip, 'access-control-allow-origin'), '*');
    // Another client is not affected.
    assert.equal(
      keep(await a.request('GET', '/api/v1/channels', { headers: from('198.51.100.11') })).status,
      200,
    );
  });

  void test('wrong stream keys on WHIP and wrong tokens at sign-in count too', async () => {
    const c = await createChannel(a, { name: 'whip keys' });
    const w = from('198.51.100.20');
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const res = keep(
        await a.request('POST', `/whip/${c.id}`, {
          auth: false,
          body: 'v=0',
          headers: { ...w, 'content-type': 'application/sdp', authorization: `Bearer sk_wrong${i}` },
        }),
      );
      assertError(res, 401, 'unauthorized');
    }
    assertLimited(keep(await a.request('GET', '/api/v1/channels', { headers: w })));
    const v = from('198.51.100.21');
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const res = keep(
        await a.request('POST', '/auth/session', { auth: false, body: { token: `wrong-${i}` }, headers: v }),
      );
      assertError(res, 401, 'unauthorized');
    }
    assertLimited(
      keep(await a.request('POST', '/auth/session', { auth: false, body: { token: a.token }, headers: v })),
    );
  });

  void test('successful requests never count, and neither do requests without credentials', async () => {
    const z = from('198.51.100.30');
    for (let i = 0; i < 4 * FAILURE_LIMIT; i++) {
      assert.equal(keep(await a.request('GET', '/api/v1/channels?limit=1', { headers: z })).status, 200);
    }
    for (let i = 0; i < 3; i++) await signIn(a, z);
    const u = from('198.51.100.31');
    for (let i = 0; i < 4 * FAILURE_LIMIT; i++) {
      assertError(
        keep(await a.request('GET', '/api/v1/channels', { auth: false, headers: u })),
        401,
        'unauthorized',
      );
    }
    assert.equal(keep(await a.request('GET', '/api/v1/channels?limit=1', { headers: u })).status, 200);
  });
});

void describe('3. ONAIR_TRUST_PROXY', () => {
  void test('behind the proxy, an anonymous client with 30 bad WHIP POSTs does not lock out the real publisher', async () => {
    const c = await createChannel(a, { name: 'proxied publisher' });
    assert.equal((await start(a, c.id)).status, 200);
    const attacker = from('203.0.113.66');
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const res = keep(
        await a.request('POST', `/whip/${c.id}`, {
          auth: false,
          body: 'garbage',
          headers: { ...attacker, 'content-type': 'application/sdp', authorization: `Bearer ${c.streamKey}` },
        }),
      );
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, 30), Array<number>(30).fill(400));
    assert.equal(statuses[30], 429, 'the 31st failed POST of the window is refused');
    const offer = await weriftOffer();
    try {
      const res = keep(
        await a.request('POST', `/whip/${c.id}`, {
          auth: false,
          body: offer.sdp,
          headers: {
            ...from('192.0.2.45'),
            'content-type': 'application/sdp',
            authorization: `Bearer ${c.streamKey}`,
          },
        }),
      );
      assert.equal(res.status, 201, res.text);
      const del = keep(
        await a.request('DELETE', header(res, 'location'), {
          auth: false,
          headers: { authorization: `Bearer ${c.streamKey}` },
        }),
      );
      assert.equal(del.status, 200);
    } finally {
      await offer.close();
    }
  });
});

void describe('5. /metrics', () => {
  void test('with ONAIR_METRICS_TOKEN it needs that token (Bearer)', async () => {
    const none = keep(await a.request('GET', '/metrics', { auth: false }));
    assertError(none, 401, 'unauthorized');
    assert.match(header(none, 'www-authenticate'), /^Bearer/);
    assertError(
      keep(await a.request('GET', '/metrics', { auth: false, headers: { authorization: 'Bearer nope' } })),
      401,
      'unauthorized',
    );
    // The admin token is not the metrics token.
    assertError(keep(await a.request('GET', '/metrics')), 401, 'unauthorized');
    const ok = keep(
      await a.request('GET', '/metrics', {
        auth: false,
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      }),
    );
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^onair_channels\{state="running"\} \d+$/m);
    assert.equal(header(ok, 'cache-control'), 'no-store');
  });

  void test('public /metrics names no channel with a preview allow-list or token playback', async () => {
    const open = await createChannel(b, { name: 'open' });
    const fenced = await createChannel(b, { name: 'fenced', preview: ['127.0.0.0/8'] });
    const tokened = await createChannel(b, { name: 'tokened', playback: 'token' });
    for (const c of [open, fenced, tokened]) assert.equal((await start(b, c.id)).status, 200);
    const res = keep(await b.request('GET', '/metrics', { auth: false }));
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`channel="${open.id}"`), 'a public channel is listed');
    assert.ok(!res.text.includes(fenced.id), 'a preview-restricted channel is not named');
    assert.ok(!res.text.includes(tokened.id), 'a token-protected channel is not named');
    assert.match(res.text, /^onair_channels\{state="running"\} 3$/m, 'they still count');
  });
});

void describe('6. console sessions live on the server', () => {
  void test('after sign-out the old cookie no longer works', async () => {
    const cookie = await signIn(a);
    assert.equal((await withCookie(a, cookie, 'GET', '/api/v1/channels')).status, 200);
    assert.equal((await withCookie(a, cookie, 'GET', '/auth/session')).status, 200);
    const out = await withCookie(a, cookie, 'DELETE', '/auth/session', { origin: new URL(a.url).origin });
    assert.equal(out.status, 200, out.text);
    assert.match(header(out, 'set-cookie'), /Max-Age=0/);
    assertError(await withCookie(a, cookie, 'GET', '/api/v1/channels'), 401, 'unauthorized');
    assertError(await withCookie(a, cookie, 'GET', '/auth/session'), 401, 'unauthorized');
    // A made-up cookie of the right shape is nobody's session.
    assertError(
      await withCookie(a, `onair_session=s1.${'A'.repeat(43)}`, 'GET', '/api/v1/channels'),
      401,
      'unauthorized',
    );
  });

  void test('rotating the admin token ends every session, for good', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'onair-sessions-test-'));
    const tokenA = 'admin-token-A-0123456789';
    const tokenB = 'admin-token-B-0123456789';
    try {
      const first = await new TestServer({ dataDir, token: tokenA }).start();
      const cookie = await signIn(first);
      assert.equal((await withCookie(first, cookie, 'GET', '/api/v1/channels')).status, 200);
      await first.stop();
      const rotated = await new TestServer({ dataDir, token: tokenB }).start();
      assertError(await withCookie(rotated, cookie, 'GET', '/api/v1/channels'), 401, 'unauthorized');
      await rotated.stop();
      // Back to the old token: the session was deleted, not just ignored.
      const back = await new TestServer({ dataDir, token: tokenA }).start();
      assertError(await withCookie(back, cookie, 'GET', '/api/v1/channels'), 401, 'unauthorized');
      const fresh = await signIn(back);
      assert.equal((await withCookie(back, fresh, 'GET', '/api/v1/channels')).status, 200);
      await back.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

void describe('7. headers', () => {
  const assertHardened = (res: Reply, what: string) => {
    assert.equal(header(res, 'x-content-type-options'), 'nosniff', what);
    assert.equal(header(res, 'referrer-policy'), 'same-origin', what);
  };

  void test('API and session answers are no-store, nosniff, same-origin referrers, and cannot be framed', async () => {
    const c = await createChannel(b, { name: 'headers' });
    const answers: [string, Reply][] = [
      ['200', keep(await b.api('GET', '/api/v1/channels'))],
      ['201', keep(await b.api('POST', '/api/v1/channels', { name: 'h2' }))],
      ['204', keep(await b.api('DELETE', `/api/v1/channels/${c.id}`))],
      ['401', keep(await b.request('GET', '/api/v1/channels', { auth: false }))],
      ['404', keep(await b.api('GET', '/api/v1/nope'))],
      ['session', keep(await b.request('GET', '/auth/session', { auth: false }))],
    ];
    for (const [what, res] of answers) {
      assert.equal(header(res, 'cache-control'), 'no-store', what);
      assertHardened(res, what);
      assert.match(header(res, 'content-security-policy'), /frame-ancestors 'none'/, what);
    }
    assertHardened(keep(await b.request('GET', '/healthz', { auth: false })), 'healthz');
    assertHardened(keep(await b.request('GET', `/live/${c.id}/channel.json`, { auth: false })), 'media');
    // Without the UI built into this server, the console redirect is still never cached.
    const redirect = keep(await b.request('GET', '/console', { auth: false }));
    assert.equal(redirect.status, 303);
    assert.equal(header(redirect, 'cache-control'), 'no-store');
  });
});

void describe('8. the Host header is not reflected', () => {
  void test('an unknown Host gives relative URLs; the server’s own names give absolute ones', async () => {
    const evil = keep(
      await a.api<Channel>('POST', '/api/v1/channels', { name: 'host' }, { host: 'evil.example' }),
    );
    assert.equal(evil.status, 201, evil.text);
    assert.ok(!evil.text.includes('evil.example'), evil.text);
    assert.equal(evil.json.urls.hls, `/live/${evil.json.id}/master.m3u8`);
    assert.equal(evil.json.urls.whip, `/whip/${evil.json.id}`);
    const port = new URL(a.url).port;
    const own = keep(
      await a.api<Channel>('GET', `/api/v1/channels/${evil.json.id}`, undefined, {
        host: `localhost:${port}`,
      }),
    );
    assert.equal(own.json.urls.hls, `http://localhost:${port}/live/${evil.json.id}/master.m3u8`);
    const token = keep(
      await a.api<PlaybackToken>(
        'POST',
        `/api/v1/channels/${evil.json.id}/playback-tokens`,
        {},
        { host: 'evil.example:80' },
      ),
    );
    assert.equal(token.status, 201, token.text);
    assert.ok(!token.text.includes('evil.example'), token.text);
    assert.ok(token.json.urls.watch.startsWith(`/watch/${evil.json.id}?token=`));
  });
});

void describe('9. limits and names', () => {
  const suite = suiteServer({ env: { ONAIR_MAX_CHANNELS: '3', ONAIR_MAX_RUNNING_CHANNELS: '2' } });

  void test('ONAIR_MAX_CHANNELS and ONAIR_MAX_RUNNING_CHANNELS → 409 beyond them', async () => {
    const d = suite.server;
    const made = [await createChannel(d), await createChannel(d), await createChannel(d)];
    assertError(
      keep(await d.api('POST', '/api/v1/channels', { name: 'one too many' })),
      409,
      'channel_limit_reached',
      'ONAIR_MAX_CHANNELS',
    );
    assert.equal(keep(await d.api('DELETE', `/api/v1/channels/${made[2]!.id}`)).status, 204);
    made[2] = await createChannel(d);
    assert.equal((await start(d, made[0]!.id)).status, 200);
    assert.equal((await start(d, made[1]!.id)).status, 200);
    assertError(
      await start(d, made[2].id),
      409,
      'running_channel_limit_reached',
      'ONAIR_MAX_RUNNING_CHANNELS',
    );
    // Starting a running channel again is not a new one.
    assert.equal((await start(d, made[0]!.id)).status, 200);
    assert.equal(keep(await d.api('POST', `/api/v1/channels/${made[1]!.id}/stop`)).status, 200);
    assert.equal((await start(d, made[2].id)).status, 200);
  });

  void test('names with control characters or lone surrogates → 422 naming the field', async () => {
    const d = suite.server;
    const [c] = (await d.api<{ items: Channel[] }>('GET', '/api/v1/channels')).json.items;
    assert.ok(c);
    for (const bad of [
      'a\u0000b',
      'bell\u0007',
      'esc\u001b[31m',
      'del\u007f',
      'c1\u0085',
      'lone \ud800',
      'lone \udfff',
      'cut \ud83d',
    ]) {
      assertError(
        keep(await d.api('PATCH', `/api/v1/channels/${c.id}`, { name: bad })),
        422,
        'validation_failed',
        'name',
      );
      assertError(
        keep(await d.api('POST', `/api/v1/channels/${c.id}/programs`, { name: bad })),
        422,
        'validation_failed',
        'name',
      );
    }
    assertError(
      keep(await d.api('PATCH', `/api/v1/channels/${c.id}`, { description: 'x\u0000' })),
      422,
      'validation_failed',
      'description',
    );
    const fine = keep(
      await d.api<Channel>('PATCH', `/api/v1/channels/${c.id}`, {
        name: 'Ünïcode 🎥 ok',
        description: 'two\nlines\tand a tab',
      }),
    );
    assert.equal(fine.status, 200, fine.text);
    assert.equal(fine.json.name, 'Ünïcode 🎥 ok');
  });
});

// Last on server B: this uses up its one address's failure budget.
void describe('3. ONAIR_TRUST_PROXY, off', () => {
  void test('without ONAIR_TRUST_PROXY, X-Forwarded-For is ignored: a client cannot pick new addresses', async () => {
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const res = keep(
        await b.request('GET', '/api/v1/channels', {
          auth: false,
          headers: { ...from(`192.0.2.${i + 1}`), authorization: 'Bearer wrong' },
        }),
      );
      assertError(res, 401, 'unauthorized');
    }
    const res = keep(
      await b.request('GET', '/api/v1/channels', {
        auth: false,
        headers: { ...from('192.0.2.200'), authorization: 'Bearer wrong' },
      }),
    );
    assertError(res, 429, 'rate_limited');
  });
});

void describe('afterwards', () => {
  void test('no 5xx anywhere, every 429 said when to retry, nothing logged as an error', () => {
    assert.deepEqual(
      replies.filter((r) => r.status >= 500).map((r) => r.text),
      [],
    );
    for (const r of replies.filter((x) => x.status === 429)) assert.match(header(r, 'retry-after'), /^\d+$/);
    assert.deepEqual(a.errorLogs(), []);
    assert.deepEqual(b.errorLogs(), []);
  });
});
