/**
 * Token-protected playback against the real server process with real media (a
 * WHIP publisher on loopback → passthrough → CMAF): the token in the path
 * opens the playlists, the MPD, the segments, the thumbnail and channel.json;
 * no token, an expired one, another channel's, a forged one or one for a
 * program get 401/403 JSON errors and never media, on the playlist and on a
 * segment asked for directly. Rotating the secret revokes every token. The
 * MPD's clock URL never carries a Host the server does not know.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, PlaybackToken, Program } from '../../lib/schemas.ts';
import { PlaybackTokens } from '../../server/auth/playback-token.ts';
import { assertError, startServer, type Reply, type TestServer } from '../helpers/server.ts';
import { createChannel, publishTo, startChannel, waitRecorded } from '../helpers/live-channel.ts';
import { waitFor } from '../helpers/procs.ts';
import { createViewerPeer } from '../helpers/whep-viewer.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

let s: TestServer;
let ch: Channel; // token playback, live
let other: Channel; // token playback, not live
let token: PlaybackToken;
let publisher: WhipPublisher | undefined;
/** Paths under the channel (after `/live/<id>/`) of one of each kind of media. */
let media: { master: string; playlist: string; init: string; segment: string; mpd: string };

const get = (p: string, headers: Record<string, string> = {}): Promise<Reply> =>
  s.request('GET', p, { auth: false, headers });

async function mint(channelId: string, body: Record<string, unknown> = {}): Promise<PlaybackToken> {
  const res = await s.api<PlaybackToken>('POST', `/api/v1/channels/${channelId}/playback-tokens`, body);
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const under = (t: string) => `/live/${ch.id}/t/${t}`;

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1' } });
  ch = await createChannel(s, { name: 'private stream', mode: 'passthrough', playback: 'token' });
  assert.equal(ch.playback, 'token');
  other = (await s.api<Channel>('POST', '/api/v1/channels', { name: 'other', playback: 'token' })).json;
  await startChannel(s, ch.id);
  publisher = await publishTo(s, ch);
  token = await mint(ch.id, { expiresInSeconds: 3600 });
  const base = under(token.token);
  const master = await waitFor(
    'the master playlist',
    async () => {
      const res = await get(`${base}/master.m3u8`);
      return res.status === 200 ? res.text : undefined;
    },
    30_000,
  );
  const playlist = master.split('\n').find((l) => l.endsWith('.m3u8') && !l.startsWith('#'));
  assert.ok(playlist, master);
  const text = await waitFor(
    'a segment in the media playlist',
    async () => {
      const res = await get(`${base}/${playlist}`);
      return res.status === 200 && res.text.includes('.m4s') ? res.text : undefined;
    },
    20_000,
  );
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
  const segment = text.split('\n').find((l) => l.endsWith('.m4s'));
  assert.ok(init && segment, text);
  media = { master: 'master.m3u8', playlist, init, segment, mpd: 'manifest.mpd' };
});

after(async () => {
  await publisher?.stop().catch(() => undefined);
  await s?.dispose();
});

void describe('playback tokens', () => {
  void test('minting: the token, its expiry and the channel URLs that carry it', () => {
    assert.match(token.token, /^[A-Za-z0-9._-]+$/);
    const expires = Date.parse(token.expiresAt);
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 120_000, token.expiresAt);
    assert.equal(token.urls.hls, `${s.url}/live/${ch.id}/t/${token.token}/master.m3u8`);
    assert.equal(token.urls.dash, `${s.url}/live/${ch.id}/t/${token.token}/manifest.mpd`);
    assert.equal(token.urls.watch, `${s.url}/watch/${ch.id}?token=${token.token}`);
    assert.equal(token.urls.embed, `${s.url}/embed/${ch.id}?token=${token.token}`);
  });

  void test('with the token: playlists, MPD, init, segments (relative URIs resolve under it), thumbnail, channel.json', async () => {
    for (const [kind, rel] of Object.entries(media)) {
      const res = await get(`${under(token.token)}/${rel}`);
      assert.equal(res.status, 200, `${kind}: ${res.text.slice(0, 200)}`);
    }
    const seg = await get(`${under(token.token)}/${media.segment}`);
    assert.match(String(seg.headers['content-type']), /^video\/mp4/);
    assert.ok(seg.text.length > 1000);
    const info = await get(`${under(token.token)}/channel.json`);
    assert.equal((info.json as { name: string }).name, 'private stream');
    await waitFor(
      'a thumbnail',
      async () => (await get(`${under(token.token)}/thumbnail.jpg`)).status === 200,
      20_000,
    );
  });

  void test('without a token: 401 token_required on every path, a segment asked for directly included', async () => {
    for (const rel of [...Object.values(media), 'thumbnail.jpg', 'channel.json']) {
      const res = await get(`/live/${ch.id}/${rel}`);
      assertError(res, 401, 'token_required');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    }
  });

  void test("an expired token → 401 token_expired; another channel's, a forged or a program's → 403 token_invalid", async () => {
    const secret = PlaybackTokens.open(s.dataDir);
    const expired = secret.mint({ channelId: ch.id }, new Date(Date.now() - 1000));
    const othersToken = (await mint(other.id)).token;
    const [v, exp, scope] = token.token.split('.');
    const forged = [v, exp, scope, 'B'.repeat(43)].join('.');
    const program = (await s.api<Program>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'p' })).json;
    const programToken = (await mint(ch.id, { programId: program.id })).token;
    const cases: [string, number, string][] = [
      [expired, 401, 'token_expired'],
      [othersToken, 403, 'token_invalid'],
      [forged, 403, 'token_invalid'],
      ['not-a-token', 403, 'token_invalid'],
      [programToken, 403, 'token_invalid'],
    ];
    for (const [t, status, code] of cases) {
      for (const rel of [media.master, media.segment, media.mpd, media.init]) {
        const res = await get(`${under(t)}/${rel}`);
        assertError(res, status, code);
        assert.ok(!res.text.includes('#EXTM3U') && !res.text.includes('<MPD'), 'never media');
      }
    }
  });

  void test('?token= on a playlist redirects to the path form', async () => {
    const res = await get(`/live/${ch.id}/master.m3u8?token=${token.token}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, `/live/${ch.id}/t/${token.token}/master.m3u8`);
  });

  void test("the MPD's clock is absolute for the server's own names and relative for any other Host", async () => {
    const own = await get(`${under(token.token)}/manifest.mpd`);
    assert.match(own.text, new RegExp(`<UTCTiming[^>]*value="${s.url}/time"`));
    const evil = await get(`${under(token.token)}/manifest.mpd`, { host: 'evil.example' });
    assert.equal(evil.status, 200);
    assert.ok(!evil.text.includes('evil.example'), 'the Host is not reflected');
    assert.match(evil.text, /<UTCTiming[^>]*value="\/time"/);
  });

  void test('a public channel needs no token; switching a running channel to token playback takes effect at once', async () => {
    const open = await s.api<Channel>('PATCH', `/api/v1/channels/${ch.id}`, { playback: 'public' });
    assert.equal(open.json.playback, 'public');
    assert.equal((await get(`/live/${ch.id}/${media.master}`)).status, 200);
    assert.equal((await get(`/live/${ch.id}/${media.segment}`)).status, 200);
    await s.api('PATCH', `/api/v1/channels/${ch.id}`, { playback: 'token' });
    assertError(await get(`/live/${ch.id}/${media.master}`), 401, 'token_required');
  });

  void test('minting checks its body', async () => {
    const bad: [Record<string, unknown>, number, string][] = [
      [{ expiresInSeconds: 10 }, 422, 'validation_failed'],
      [{ expiresInSeconds: 1.5 }, 422, 'validation_failed'],
      [{ expiresInSeconds: 10 ** 12 }, 422, 'validation_failed'],
      [{ programId: 'pg_00000000000000' }, 404, 'program_not_found'],
      [{ programId: 'nope' }, 422, 'validation_failed'],
      [{ scope: 'all' }, 422, 'validation_failed'],
    ];
    for (const [body, status, code] of bad) {
      assertError(await s.api('POST', `/api/v1/channels/${ch.id}/playback-tokens`, body), status, code);
    }
    const otherProgram = (
      await s.api<Program>('POST', `/api/v1/channels/${other.id}/programs`, { name: 'x' })
    ).json;
    assertError(
      await s.api('POST', `/api/v1/channels/${ch.id}/playback-tokens`, { programId: otherProgram.id }),
      422,
      'validation_failed',
      'another channel',
    );
    assertError(
      await s.api('POST', '/api/v1/channels/ch_nope/playback-tokens', {}),
      404,
      'channel_not_found',
    );
    // An empty body takes the defaults (one day).
    const res = await s.request('POST', `/api/v1/channels/${ch.id}/playback-tokens`);
    assert.equal(res.status, 201, res.text);
    const expires = Date.parse((res.json as PlaybackToken).expiresAt);
    assert.ok(Math.abs(expires - (Date.now() + 86_400_000)) < 120_000);
  });

  void test("a program's DVR window and its recording (/programs, /vod) need a token too", async () => {
    const p = (await s.api<Program>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'guarded' })).json;
    assert.equal((await s.api('POST', `/api/v1/programs/${p.id}/start`)).status, 200);
    const programToken = (await mint(ch.id, { programId: p.id })).token;
    assert.ok((await mint(ch.id, { programId: p.id })).urls.hls.includes(`/programs/${p.id}/t/`));
    const dvr = (t?: string) => `/programs/${p.id}${t ? `/t/${t}` : ''}/master.m3u8`;
    await waitFor('the DVR playlist', async () => (await get(dvr(token.token))).status === 200, 20_000);
    assertError(await get(dvr()), 401, 'token_required');
    assert.equal((await get(dvr(programToken))).status, 200, 'a token for this program');
    const other = (await s.api<Program>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'other' }))
      .json;
    assertError(await get(dvr((await mint(ch.id, { programId: other.id })).token)), 403, 'token_invalid');
    assertError(await get(`/programs/${p.id}/info.json`), 401, 'token_required');

    await waitRecorded(s, p.id, 4, 'four seconds recorded');
    const stopped = (await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`)).json;
    const assetId = stopped.assetId!;
    const vod = (t?: string) => `/vod/${assetId}${t ? `/t/${t}` : ''}/master.m3u8`;
    let last = '';
    await waitFor(
      'the asset on demand',
      async () => {
        const res = await get(vod(token.token));
        last = `${res.status} ${res.text.slice(0, 200)}`;
        return res.status === 200;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last: ${last}`);
    });
    assertError(await get(vod()), 401, 'token_required');
    assertError(await get(`/vod/${assetId}/poster.jpg`), 401, 'token_required');
    assert.equal(
      (await get(vod((await mint(ch.id, { assetId })).token))).status,
      200,
      'a token for this asset',
    );
    assertError(await get(vod(programToken)), 403, 'token_invalid');
    // The program's page keeps serving its recording with the program's own token.
    assert.equal((await get(dvr(programToken))).status, 200);
  });

  void test("a program's token reads only the segments of its window, not the channel's older ones", async () => {
    // The newest complete segment of the live window now, written before the program starts.
    const live = (await get(`${under(token.token)}/${media.playlist}`)).text;
    const before = live
      .split('\n')
      .filter((l) => l.endsWith('.m4s'))
      .at(-1);
    assert.ok(before, live);
    const p = (await s.api<Program>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'windowed' })).json;
    assert.equal((await s.api('POST', `/api/v1/programs/${p.id}/start`)).status, 200);
    const t = (await mint(ch.id, { programId: p.id })).token;
    const base = `/programs/${p.id}/t/${t}`;
    const listed = await waitFor(
      "a segment in the program's window",
      async () => {
        const res = await get(`${base}/${media.playlist}`);
        return res.status === 200 ? res.text.split('\n').find((l) => l.endsWith('.m4s')) : undefined;
      },
      20_000,
    );
    assert.equal((await get(`${base}/${listed}`)).status, 200, 'a segment of the window');
    assert.equal((await get(`${under(token.token)}/${before}`)).status, 200, 'still on disk');
    assertError(await get(`${base}/${before}`), 404, 'not_found');
    assertError(await get(`${base}/${before.replace('.m4s', '.p0.m4s')}`), 404, 'not_found');
    assert.equal((await s.api('POST', `/api/v1/programs/${p.id}/stop`)).status, 200);
  });

  void test('real time (WHEP) needs the token too, as a Bearer token', async () => {
    const viewer = await createViewerPeer();
    const offer = { sdp: viewer.offer, close: () => viewer.pc.close() };
    try {
      const post = (auth?: string) =>
        s.request('POST', `/whep/${ch.id}`, {
          auth: false,
          body: offer.sdp,
          headers: { 'content-type': 'application/sdp', ...(auth ? { authorization: auth } : {}) },
        });
      assertError(await post(), 401, 'token_required');
      const theirs = await mint(other.id);
      assertError(await post(`Bearer ${theirs.token}`), 403, 'token_invalid');
      const ok = await post(`Bearer ${token.token}`);
      assert.equal(ok.status, 201, ok.text);
      assert.match(ok.text, /^v=0/);
      const location = String(ok.headers.location);
      assert.equal((await s.request('DELETE', location, { auth: false })).status, 200);
    } finally {
      await offer.close();
    }
  });

  void test('rotating the playback secret revokes every token', async () => {
    assert.equal((await get(`${under(token.token)}/${media.master}`)).status, 200);
    const rotated = await s.api<{ rotatedAt: string }>('POST', '/api/v1/playback-secret/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    assertError(await get(`${under(token.token)}/${media.master}`), 403, 'token_invalid');
    assertError(await get(`${under(token.token)}/${media.segment}`), 403, 'token_invalid');
    const fresh = await mint(ch.id);
    assert.equal((await get(`${under(fresh.token)}/${media.master}`)).status, 200);
  });

  void test('nothing was logged as an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
