/**
 * WHIP ingest (RFC 9725) against the real server process: every error case with
 * its status and error code, CORS preflight, ICE servers as Link headers, rate
 * limiting, and a successful offer/answer with its session URL (PATCH, DELETE).
 * Media is not sent here (see live.test.ts); offers come from werift or by hand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Channel } from '../../lib/schemas.ts';
import {
  assertError,
  startServer,
  type Reply,
  type RequestOptions,
  type TestServer,
} from '../helpers/server.ts';
import { H264, OPUS, VP8, handOffer, weriftOffer } from '../helpers/sdp-offers.ts';
import { waitFor } from '../helpers/procs.ts';
import { header, headerList, ReplyLog } from '../helpers/replies.ts';
import { createChannel as createChannelIn, startChannel } from '../helpers/live-channel.ts';

const ICE_SERVERS = '[{"urls":"stun:stun.example.com:3478"}]';

/** Every reply of every server in this file: none may be a 500. */
const log = new ReplyLog();
const replies = log.replies;
const call = log.call.bind(log);

function postOffer(
  s: TestServer,
  channelId: string,
  sdp: string | Buffer,
  key: string | undefined,
  extra: Partial<RequestOptions> = {},
) {
  const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  return log.postSdp(s, `/whip/${channelId}`, sdp, auth, extra);
}

/** DELETEs the session a 201 reply created, with the stream key. */
function deleteSession(s: TestServer, created: Reply, key: string): Promise<Reply> {
  return call(s, 'DELETE', header(created, 'location'), { headers: { authorization: `Bearer ${key}` } });
}

async function createChannel(s: TestServer, body: Record<string, unknown>, start = true): Promise<Channel> {
  const created = await createChannelIn(s, { name: 'whip test', ...body });
  if (!start) return created;
  const started = await startChannel(s, created.id);
  assert.equal(started.state, 'running');
  return started;
}

async function eventTypes(s: TestServer, channelId: string): Promise<string[]> {
  const res = await s.api<{ items: { type: string }[] }>(
    'GET',
    `/api/v1/channels/${channelId}/events?limit=200`,
  );
  assert.equal(res.status, 200, res.text);
  return res.json.items.map((e) => e.type);
}

const VALID = handOffer([
  { kind: 'video', codecs: [H264] },
  { kind: 'audio', codecs: [OPUS] },
]);

let s: TestServer;
let ch: Channel; // encode, running
let stopped: Channel;
let passthrough: Channel;
let fenced: Channel; // ingest allow-list without loopback

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHIP_RATE_LIMIT: '1000' } });
  ch = await createChannel(s, { name: 'encode' });
  stopped = await createChannel(s, { name: 'stopped' }, false);
  passthrough = await createChannel(s, { name: 'passthrough', mode: 'passthrough' });
  fenced = await createChannel(s, { name: 'fenced', ingest: ['10.0.0.0/8'] });
});

after(async () => {
  await s?.dispose();
});

void describe('WHIP errors', () => {
  void test('wrong or missing Content-Type → 415 unsupported_media_type', async () => {
    for (const type of ['text/plain', 'application/json', 'application/sdpx']) {
      const res = await postOffer(s, ch.id, VALID, ch.streamKey, {
        headers: { 'content-type': type, authorization: `Bearer ${ch.streamKey}` },
      });
      assertError(res, 415, 'unsupported_media_type');
      assert.equal(header(res, 'access-control-allow-origin'), '*');
    }
    const none = await call(s, 'POST', `/whip/${ch.id}`, {
      body: VALID,
      headers: { authorization: `Bearer ${ch.streamKey}` },
    });
    assertError(none, 415, 'unsupported_media_type');
    // Parameters on the media type are fine.
    const withParams = await postOffer(s, stopped.id, VALID, stopped.streamKey, {
      headers: {
        'content-type': 'Application/SDP; charset=utf-8',
        authorization: `Bearer ${stopped.streamKey}`,
      },
    });
    assertError(withParams, 409, 'channel_not_running');
  });

  void test('missing stream key → 401 with WWW-Authenticate: Bearer', async () => {
    const res = await postOffer(s, ch.id, VALID, undefined);
    assertError(res, 401, 'unauthorized');
    assert.match(header(res, 'www-authenticate'), /^Bearer\b/);
  });

  void test("wrong stream key → 401 (also another channel's key, the admin token, Basic auth)", async () => {
    for (const auth of [
      `Bearer ${ch.streamKey}x`,
      `Bearer ${stopped.streamKey}`,
      `Bearer ${s.token}`,
      `Basic ${Buffer.from(`u:${ch.streamKey}`).toString('base64')}`,
      'Bearer',
    ]) {
      const res = await postOffer(s, ch.id, VALID, undefined, {
        headers: { 'content-type': 'application/sdp', authorization: auth },
      });
      assertError(res, 401, 'unauthorized');
      assert.match(header(res, 'www-authenticate'), /^Bearer\b/);
      assert.ok(!res.text.includes(ch.streamKey), 'the error must not echo the stream key');
    }
  });

  void test('unknown channel → 404 channel_not_found', async () => {
    const res = await postOffer(s, 'no-such-channel', VALID, ch.streamKey);
    assertError(res, 404, 'channel_not_found');
    const odd = await postOffer(s, '%E2%82%AC%20..', VALID, ch.streamKey);
    assertError(odd, 404, 'channel_not_found');
  });

  void test('stopped channel → 409 channel_not_running', async () => {
    const res = await postOffer(s, stopped.id, VALID, stopped.streamKey);
    assertError(res, 409, 'channel_not_running');
  });

  void test('malformed SDP → 400 invalid_sdp', async () => {
    for (const body of [
      'this is not an SDP offer',
      '',
      'v=0\r\ngarbage\r\n',
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video banana\r\n',
      '\u0000\u0001\u0002',
    ]) {
      const res = await postOffer(s, ch.id, body, ch.streamKey);
      assertError(res, 400, 'invalid_sdp');
    }
  });

  void test('no video m-line → 422 unsupported_offer naming video', async () => {
    const res = await postOffer(s, ch.id, handOffer([{ kind: 'audio', codecs: [OPUS] }]), ch.streamKey);
    assertError(res, 422, 'unsupported_offer', /video/);
    const dataOnly = await postOffer(
      s,
      ch.id,
      handOffer([{ kind: 'application', codecs: [] }]),
      ch.streamKey,
    );
    assertError(dataOnly, 422, 'unsupported_offer', /video/);
  });

  void test('two video m-lines → 422; two audio m-lines → 422', async () => {
    const twoVideo = handOffer([
      { kind: 'video', codecs: [H264] },
      { kind: 'video', codecs: [H264] },
      { kind: 'audio', codecs: [OPUS] },
    ]);
    assertError(await postOffer(s, ch.id, twoVideo, ch.streamKey), 422, 'unsupported_offer', /video/);
    const twoAudio = handOffer([
      { kind: 'video', codecs: [H264] },
      { kind: 'audio', codecs: [OPUS] },
      { kind: 'audio', codecs: [OPUS] },
    ]);
    assertError(await postOffer(s, ch.id, twoAudio, ch.streamKey), 422, 'unsupported_offer', /audio/);
  });

  void test('no acceptable codec → 422 unsupported_offer naming the codec problem', async () => {
    const madeUp = handOffer([
      { kind: 'video', codecs: ['FOOCODEC/90000'] },
      { kind: 'audio', codecs: [OPUS] },
    ]);
    assertError(await postOffer(s, ch.id, madeUp, ch.streamKey), 422, 'unsupported_offer', /codec/);
    // H.264 packetization-mode 0 is not accepted.
    const mode0 = handOffer([
      { kind: 'video', codecs: ['H264/90000 profile-level-id=42e01f;packetization-mode=0'] },
    ]);
    assertError(await postOffer(s, ch.id, mode0, ch.streamKey), 422, 'unsupported_offer', /codec/);
    const badAudio = handOffer([
      { kind: 'video', codecs: [H264] },
      { kind: 'audio', codecs: ['PCMU/8000'] },
    ]);
    assertError(await postOffer(s, ch.id, badAudio, ch.streamKey), 422, 'unsupported_offer', /audio|Opus/);
  });

  void test('passthrough channel offered VP8 only → 422 naming H.264', async () => {
    const vp8 = handOffer([
      { kind: 'video', codecs: [VP8] },
      { kind: 'audio', codecs: [OPUS] },
    ]);
    assertError(
      await postOffer(s, passthrough.id, vp8, passthrough.streamKey),
      422,
      'unsupported_offer',
      /H\.264/,
    );
  });

  void test('body over 64 KiB → 413 payload_too_large (declared and chunked)', async () => {
    const big = VALID + `a=x-padding:${'x'.repeat(70 * 1024)}\r\n`;
    const declared = await postOffer(s, ch.id, big, ch.streamKey);
    assertError(declared, 413, 'payload_too_large');
    const chunked = await postOffer(s, ch.id, big, ch.streamKey, { chunked: true });
    assertError(chunked, 413, 'payload_too_large');
  });

  void test('client address outside the ingest allow-list → 403 forbidden', async () => {
    const res = await postOffer(s, fenced.id, VALID, fenced.streamKey);
    assertError(res, 403, 'forbidden');
  });

  void test('OPTIONS preflight: CORS and Accept-Post, no auth needed', async () => {
    const res = await call(s, 'OPTIONS', `/whip/${ch.id}`, {
      headers: {
        origin: 'https://studio.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.ok(res.status === 200 || res.status === 204, `OPTIONS → ${res.status}`);
    assert.equal(header(res, 'access-control-allow-origin'), '*');
    const allowHeaders = headerList(res, 'access-control-allow-headers');
    for (const h of ['authorization', 'content-type', 'if-match'])
      assert.ok(allowHeaders.includes(h), `Allow-Headers lacks ${h}: ${allowHeaders.join(',')}`);
    const expose = headerList(res, 'access-control-expose-headers');
    for (const h of ['location', 'etag', 'link'])
      assert.ok(expose.includes(h), `Expose-Headers lacks ${h}: ${expose.join(',')}`);
    const methods = headerList(res, 'access-control-allow-methods');
    for (const m of ['post', 'delete', 'patch', 'options'])
      assert.ok(methods.includes(m), `Allow-Methods lacks ${m}`);
    assert.equal(header(res, 'accept-post'), 'application/sdp');
    assert.equal(header(res, 'link'), '', 'no ICE servers configured, no Link');
  });

  void test('malformed percent-encoding → 400 bad_request on every WHIP path, no stack trace logged', async () => {
    const before = s.errorLogs().length;
    for (const [method, path] of [
      ['POST', '/whip/%ZZ'],
      ['OPTIONS', '/whip/%ZZ'],
      ['DELETE', '/whip/%ZZ/sessions/x'],
      ['DELETE', `/whip/${ch.id}/sessions/%E0%A4%A`],
      ['GET', '/live/%ZZ/master.m3u8'],
      ['GET', '/watch/%E0%A4%A'],
      ['GET', '/embed/%ZZ'],
    ] as const) {
      const res = await call(s, method, path, {
        body: method === 'POST' ? VALID : undefined,
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${ch.streamKey}` },
      });
      assertError(res, 400, 'bad_request', /percent-encoding/);
    }
    assert.equal(s.errorLogs().length, before, 'a bad path is not a server error');
  });

  void test('an offer without ICE credentials or a fingerprint → 422 naming what is missing', async () => {
    const res = await postOffer(s, ch.id, VALID, ch.streamKey);
    const { message } = assertError(res, 422, 'unsupported_offer', /a=ice-ufrag/);
    assert.match(message, /a=ice-pwd/);
    assert.match(message, /a=fingerprint/);
    const real = await weriftOffer();
    try {
      const noUfrag = real.sdp.replace(/^a=ice-ufrag:.*\r?\n/gm, '');
      const only = assertError(await postOffer(s, ch.id, noUfrag, ch.streamKey), 422, 'unsupported_offer');
      assert.match(only.message, /no a=ice-ufrag:/);
      assert.doesNotMatch(only.message, /a=ice-pwd|a=fingerprint/);
    } finally {
      await real.close();
    }
  });

  void test('other methods on the endpoint → 405', async () => {
    const res = await call(s, 'GET', `/whip/${ch.id}`, {
      headers: { authorization: `Bearer ${ch.streamKey}` },
    });
    assertError(res, 405, 'method_not_allowed');
  });
});

void describe('WHIP session', () => {
  void test('201 with an SDP answer, Location and ETag; a second publisher gets 409; PATCH 405/415; DELETE ends it', async () => {
    const offer = await weriftOffer();
    try {
      const res = await postOffer(s, ch.id, offer.sdp, ch.streamKey);
      assert.equal(res.status, 201, res.text);
      assert.match(header(res, 'content-type'), /^application\/sdp/);
      assert.equal(header(res, 'access-control-allow-origin'), '*');
      const location = header(res, 'location');
      assert.match(
        location,
        new RegExp(`^/whip/${ch.id}/sessions/[A-Za-z0-9_-]{16,}$`),
        `Location ${location}`,
      );
      assert.match(header(res, 'etag'), /^(W\/)?"[^"]+"$/);

      const answer = res.text;
      assert.match(answer, /^v=0\r?\n/);
      assert.match(answer, /^a=group:BUNDLE \S+ \S+/m, 'answer lacks BUNDLE of both sections');
      const sections = answer.split(/\r?\n(?=m=)/).slice(1);
      assert.equal(sections.length, 2, 'one answer section per offered one');
      for (const sec of sections) {
        assert.match(sec, /^a=rtcp-mux$/m, `section lacks rtcp-mux:\n${sec}`);
        assert.match(sec, /^a=(recvonly|inactive)$/m, `section is not recvonly:\n${sec}`);
        assert.doesNotMatch(sec, /^a=(sendrecv|sendonly)$/m);
      }
      const candidates = [...answer.matchAll(/^a=candidate:\S+ \d+ (\w+) \d+ (\S+) (\d+) typ (\w+)/gm)];
      assert.ok(candidates.length > 0, 'the answer carries its candidates (no trickle)');
      for (const c of candidates) assert.equal(c[2], '127.0.0.1', `candidate off loopback: ${c[0]}`);
      const video = sections.find((x) => x.startsWith('m=video'));
      assert.ok(video);
      assert.match(video, /^a=rtpmap:\d+ H264\/90000/m);
      const fmtp = /^a=fmtp:\d+ (.*)$/m.exec(video)?.[1] ?? '';
      assert.match(fmtp, /packetization-mode=1/);
      for (const k of ['x-google-start-bitrate', 'x-google-min-bitrate', 'x-google-max-bitrate'])
        assert.match(fmtp, new RegExp(`${k}=\\d+`));
      const audio = sections.find((x) => x.startsWith('m=audio'));
      assert.ok(audio);
      assert.match(audio, /^a=rtpmap:\d+ opus\/48000\/2/im);

      // One publisher per channel.
      const second = await weriftOffer();
      try {
        assertError(await postOffer(s, ch.id, second.sdp, ch.streamKey), 409, 'publisher_exists');
      } finally {
        await second.close();
      }

      // The session URL.
      const opts = await call(s, 'OPTIONS', location);
      assert.ok(opts.status === 200 || opts.status === 204);
      assert.equal(header(opts, 'accept-patch'), 'application/trickle-ice-sdpfrag');
      assert.equal(header(opts, 'access-control-allow-origin'), '*');
      const auth = { authorization: `Bearer ${ch.streamKey}` };
      const frag =
        'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n';
      const patchSession = (body: string, type: string) =>
        call(s, 'PATCH', location, { body, headers: { ...auth, 'content-type': type } });
      const patch = await patchSession(frag, 'application/trickle-ice-sdpfrag');
      assert.ok([204, 405, 422].includes(patch.status), `PATCH → ${patch.status}`);
      if (patch.status === 405) {
        assertError(patch, 405, 'method_not_allowed');
        assert.ok(header(patch, 'allow').includes('DELETE'));
      }
      assertError(await patchSession(frag, 'application/sdp'), 415, 'unsupported_media_type');
      assertError(await patchSession('{}', 'application/json'), 415, 'unsupported_media_type');
      assertError(await call(s, 'DELETE', location), 401, 'unauthorized');
      assertError(
        await call(s, 'DELETE', location, { headers: { authorization: `Bearer ${passthrough.streamKey}` } }),
        401,
        'unauthorized',
      );
      assertError(
        await call(s, 'DELETE', `/whip/${ch.id}/sessions/not-a-session`, { headers: auth }),
        404,
        'session_not_found',
      );

      const del = await call(s, 'DELETE', location, { headers: auth });
      assert.equal(del.status, 200, del.text);
      assert.equal(header(del, 'access-control-allow-origin'), '*');
      assertError(await call(s, 'DELETE', location, { headers: auth }), 404, 'session_not_found');
      assertError(await patchSession(frag, 'application/trickle-ice-sdpfrag'), 404, 'session_not_found');

      await waitFor(
        'publisher.disconnected event',
        async () => (await eventTypes(s, ch.id)).includes('publisher.disconnected'),
        5000,
      );
      const channel = await s.api<Channel>('GET', `/api/v1/channels/${ch.id}`);
      assert.equal(channel.json.state, 'running', 'the channel keeps running after its publisher left');
    } finally {
      await offer.close();
    }
  });

  let vp8Answer = '';
  void test('after DELETE the channel takes a new publisher; VP8 is accepted in encode mode', async () => {
    const offer = await weriftOffer({ codec: 'VP8' });
    try {
      const res = await postOffer(s, ch.id, offer.sdp, ch.streamKey);
      assert.equal(res.status, 201, res.text);
      assert.match(res.text, /^a=rtpmap:\d+ VP8\/90000/m);
      vp8Answer = res.text;
      const del = await deleteSession(s, res, ch.streamKey);
      assert.equal(del.status, 200, del.text);
    } finally {
      await offer.close();
    }
  });

  void test('a VP8 answer also carries the x-google bitrate hints', () => {
    // VP8 has no fmtp line of its own; the hints must still be there (browsers offer VP8 too).
    const video = vp8Answer.split(/\r?\n(?=m=)/).find((x) => x.startsWith('m=video')) ?? '';
    const pt = /^a=rtpmap:(\d+) VP8\/90000/m.exec(video)?.[1];
    assert.ok(pt, 'no VP8 in the answer');
    const fmtp = new RegExp(`^a=fmtp:${pt} (.*)$`, 'm').exec(video)?.[1] ?? '';
    for (const k of ['x-google-start-bitrate', 'x-google-min-bitrate', 'x-google-max-bitrate']) {
      assert.match(fmtp, new RegExp(`${k}=\\d+`), `VP8 answer has no ${k}:\n${video}`);
    }
  });

  void test('passthrough channel accepts H.264', async () => {
    const offer = await weriftOffer({ codec: 'H264', audio: false });
    try {
      const res = await postOffer(s, passthrough.id, offer.sdp, passthrough.streamKey);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.text.split(/\r?\n(?=m=)/).length - 1, 1, 'one section for a video-only offer');
      const del = await deleteSession(s, res, passthrough.streamKey);
      assert.equal(del.status, 200, del.text);
    } finally {
      await offer.close();
    }
  });
});

void describe('WHIP offers as other clients write them', () => {
  const golden = (name: string) =>
    readFileSync(path.join(import.meta.dirname, '..', 'golden', 'offers', `${name}.sdp`), 'utf8');
  for (const name of [
    'chromium-whip',
    'firefox-whip',
    'obs-whip',
    'gstreamer-whip',
    'gstreamer-max-bundle-whip',
  ]) {
    void test(`${name}: 201, and its video and audio are both answered on the bundle`, async () => {
      const res = await postOffer(s, ch.id, golden(name), ch.streamKey);
      assert.equal(res.status, 201, res.text);
      const bundle = /^a=group:BUNDLE (.*)$/m.exec(res.text)?.[1]?.trim().split(' ') ?? [];
      const sections = res.text.split(/\r?\n(?=m=)/).slice(1);
      for (const kind of ['video', 'audio']) {
        const sec = sections.find((x) => x.startsWith(`m=${kind} `) && !x.startsWith(`m=${kind} 0 `));
        assert.ok(sec, `${kind} answered as rejected:\n${res.text}`);
        const mid = /^a=mid:(\S+)$/m.exec(sec)?.[1];
        assert.ok(mid && bundle.includes(mid), `${kind} (mid ${mid}) not in the BUNDLE ${bundle.join(' ')}`);
      }
      const del = await deleteSession(s, res, ch.streamKey);
      assert.equal(del.status, 200, del.text);
    });
  }
});

void describe('WHIP with ICE servers and a tight rate limit', () => {
  let s2: TestServer;
  let c2: Channel;
  before(async () => {
    s2 = await startServer({
      env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHIP_RATE_LIMIT: '3', ONAIR_ICE_SERVERS: ICE_SERVERS },
    });
    c2 = await createChannel(s2, { name: 'rate limited' });
  });
  after(async () => {
    await s2?.dispose();
  });

  void test('configured STUN servers are sent as Link rel="ice-server" on OPTIONS and on 201', async () => {
    const opts = await call(s2, 'OPTIONS', `/whip/${c2.id}`);
    assert.ok(opts.status === 200 || opts.status === 204);
    assert.match(header(opts, 'link'), /<stun:stun\.example\.com:3478>;\s*rel="ice-server"/);
    const offer = await weriftOffer();
    try {
      const res = await postOffer(s2, c2.id, offer.sdp, c2.streamKey); // a success: not counted by the limiter
      assert.equal(res.status, 201, res.text);
      assert.match(header(res, 'link'), /<stun:stun\.example\.com:3478>;\s*rel="ice-server"/);
      for (const c of res.text.matchAll(/^a=candidate:\S+ \d+ \w+ \d+ (\S+) /gm))
        assert.equal(c[1], '127.0.0.1');
      const del = await deleteSession(s2, res, c2.streamKey);
      assert.equal(del.status, 200);
    } finally {
      await offer.close();
    }
  });

  void test('more than ONAIR_WHIP_RATE_LIMIT failed POSTs a minute from one address → 429 with Retry-After', async () => {
    const statuses: number[] = [];
    // The successful POST above did not count; three failures (garbage SDP: 400) use up the window.
    for (let i = 0; i < 3; i++) statuses.push((await postOffer(s2, c2.id, 'garbage', c2.streamKey)).status);
    assert.deepEqual(statuses, [400, 400, 400]);
    for (let i = 0; i < 2; i++) {
      const res = await postOffer(s2, c2.id, VALID, c2.streamKey);
      assertError(res, 429, 'rate_limited');
      const retry = Number(header(res, 'retry-after'));
      assert.ok(
        Number.isInteger(retry) && retry >= 1 && retry <= 60,
        `Retry-After ${header(res, 'retry-after')}`,
      );
    }
    // Preflights are not limited.
    const opts = await call(s2, 'OPTIONS', `/whip/${c2.id}`);
    assert.ok(opts.status === 200 || opts.status === 204);
  });
});

void describe('afterwards', () => {
  void test('the server is alive, no request was answered 500 and nothing was logged as an error', async () => {
    const health = await s.request('GET', '/healthz', { auth: false });
    assert.equal(health.status, 200);
    assert.equal(s.exitCode, null);
    const bad = replies.filter((r) => r.status >= 500);
    assert.deepEqual(bad, [], 'no WHIP request may fail with 5xx');
    const errors = s.errorLogs();
    assert.deepEqual(errors, [], `error logs: ${JSON.stringify(errors)}`);
  });
});
