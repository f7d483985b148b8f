/**
 * Transport security headers against the real server process (ONAIR_UI=0): with
 * an https ONAIR_PUBLIC_URL every answer — API, errors, health, media, the
 * console redirect — carries Strict-Transport-Security; a server reached over
 * plain http (no https public URL) never sends it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Reply, type TestServer } from '../helpers/server.ts';
import { header } from '../helpers/replies.ts';

const HSTS = 'max-age=31536000';

let https: TestServer; // ONAIR_PUBLIC_URL=https://…
let http: TestServer; // no public URL

before(async () => {
  [https, http] = await Promise.all([
    startServer({ env: { ONAIR_UI: '0', ONAIR_PUBLIC_URL: 'https://tv.example.test' } }),
    startServer({ env: { ONAIR_UI: '0' } }),
  ]);
});

after(async () => {
  await Promise.all([https?.dispose(), http?.dispose()]);
});

/** One answer of each kind the server gives. */
async function answers(s: TestServer): Promise<[string, Reply][]> {
  const c = await s.api<{ id: string }>('POST', '/api/v1/channels', { name: 'hsts' });
  assert.equal(c.status, 201, c.text);
  return [
    ['api 200', await s.api('GET', '/api/v1/channels')],
    ['api 401', await s.request('GET', '/api/v1/channels', { auth: false })],
    ['api 404', await s.api('GET', '/api/v1/nope')],
    ['bad path', await s.request('GET', '/%E0%A4%A', { auth: false })],
    ['healthz', await s.request('GET', '/healthz', { auth: false })],
    ['media', await s.request('GET', `/live/${c.json.id}/channel.json`, { auth: false })],
    ['console', await s.request('GET', '/console', { auth: false })],
  ];
}

void describe('Strict-Transport-Security', () => {
  void test('with an https ONAIR_PUBLIC_URL every answer carries it', async () => {
    for (const [what, res] of await answers(https))
      assert.equal(header(res, 'strict-transport-security'), HSTS, what);
  });

  void test('without one it is never sent', async () => {
    for (const [what, res] of await answers(http))
      assert.equal(res.headers['strict-transport-security'], undefined, what);
  });
});
