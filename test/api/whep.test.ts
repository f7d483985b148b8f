/**
 * WHEP playback against the real server process: every error case with its
 * status, code and Retry-After; CORS and ICE servers as Link headers; a viewer
 * (werift, in a child process) receiving an H.264 or VP8 publisher's media
 * with an answer that offers only those codecs; the viewer continuing across a
 * publisher reconnect with one SSRC and no gaps; viewers ending with the
 * channel with no UDP port left behind; the viewer limit and the rate limit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelStats } from '../../lib/api-client.ts';
import type { Channel } from '../../lib/schemas.ts';
import {
  assertError,
  startServer,
  type Reply,
  type RequestOptions,
  type TestServer,
} from '../helpers/server.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { udpPortsOf, waitFor } from '../helpers/procs.ts';
import { header, headerList, ReplyLog } from '../helpers/replies.ts';
import { createChannel as createChannelIn, publishTo, startChannel } from '../helpers/live-channel.ts';
import { H264, OPUS, VP8, handOffer } from '../helpers/sdp-offers.ts';
import { firstViewerWhen, watchWhepProcess, type ViewerGroup } from '../helpers/viewer-process.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';
import { createViewerPeer } from '../helpers/whep-viewer.ts';

/** Every reply of every server in this file: none may be a 500. */
const log = new ReplyLog();
const replies = log.replies;
const call = log.call.bind(log);

function postOffer(
  s: TestServer,
  channelId: string,
  sdp: string | Buffer,
  extra: Partial<RequestOptions> = {},
) {
  return log.postSdp(s, `/whep/${channelId}`, sdp, {}, extra);
}

function assertRetryAfter(res: Reply): number {
  const retry = Number(header(res, 'retry-after'));
  assert.ok(
    Number.isInteger(retry) && retry >= 1 && retry <= 60,
    `Retry-After ${header(res, 'retry-after')}`,
  );
  return retry;
}

async function createChannel(s: TestServer, body: Record<string, unknown>, start = true): Promise<Channel> {
  const created = await createChannelIn(s, { name: 'whep test', ...body });
  return start ? startChannel(s, created.id) : created;
}

async function stats(s: TestServer, channelId: string): Promise<ChannelStats> {
  const res = await s.api<ChannelStats>('GET', `/api/v1/channels/${channelId}/stats`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** A complete werift recvonly offer (negotiable), its peer closed at once. */
async function realOffer(opts: { videoCodecs?: ('H264' | 'VP8')[]; audio?: boolean } = {}): Promise<string> {
  const { pc, offer } = await createViewerPeer(opts);
  await pc.close();
  return offer;
}

/** The answer's media sections, each with its direction and codec names. */
function sections(answer: string): { kind: string; port: number; direction: string; codecs: string[] }[] {
  return answer
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((sec) => ({
      kind: /^m=(\w+)/.exec(sec)?.[1] ?? '',
      port: Number(/^m=\w+ (\d+)/.exec(sec)?.[1]),
      direction: /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(sec)?.[1] ?? 'sendrecv',
      codecs: [...sec.matchAll(/^a=rtpmap:\d+ ([\w-]+)\//gm)].map((m) => m[1]!.toUpperCase()),
    }));
}

const RECVONLY = handOffer([
  { kind: 'video', codecs: [H264], direction: 'recvonly' },
  { kind: 'audio', codecs: [OPUS], direction: 'recvonly' },
]);

let s: TestServer;
let idle: Channel; // running, no publisher
let stopped: Channel;
let fenced: Channel; // preview allow-list without loopback

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHEP_RATE_LIMIT: '1000' } });
  idle = await createChannel(s, { name: 'idle' });
  stopped = await createChannel(s, { name: 'stopped' }, false);
  fenced = await createChannel(s, { name: 'fenced', preview: ['10.0.0.0/8'] });
});

after(async () => {
  await s?.dispose();
});

void describe('WHEP errors', () => {
  void test('wrong or missing Content-Type → 415 unsupported_media_type, with CORS', async () => {
    for (const type of ['text/plain', 'application/json', 'application/sdpx']) {
      const res = await postOffer(s, idle.id, RECVONLY, { headers: { 'content-type': type } });
      assertError(res, 415, 'unsupported_media_type');
      assert.equal(header(res, 'access-control-allow-origin'), '*');
    }
    assertError(await call(s, 'POST', `/whep/${idle.id}`, { body: RECVONLY }), 415, 'unsupported_media_type');
  });

  void test('unknown channel → 404 channel_not_found', async () => {
    assertError(await postOffer(s, 'no-such-channel', RECVONLY), 404, 'channel_not_found');
    assertError(await postOffer(s, '%E2%82%AC%20..', RECVONLY), 404, 'channel_not_found');
  });

  void test('stopped channel → 409 channel_not_running', async () => {
    const res = await postOffer(s, stopped.id, RECVONLY);
    assertError(res, 409, 'channel_not_running');
    assertRetryAfter(res);
  });

  void test('running channel with no live publisher → 409 publisher_not_live with Retry-After', async () => {
    const res = await postOffer(s, idle.id, await realOffer());
    assertError(res, 409, 'publisher_not_live');
    assertRetryAfter(res);
    assert.ok(headerList(res, 'access-control-expose-headers').includes('retry-after'));
  });

  void test('malformed SDP → 400 invalid_sdp', async () => {
    for (const body of [
      'not an offer',
      '',
      'v=0\r\ngarbage\r\n',
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video x\r\n',
    ]) {
      assertError(await postOffer(s, idle.id, body), 400, 'invalid_sdp');
    }
  });

  void test('nothing receivable in the offer → 422 unsupported_offer', async () => {
    const sendonly = handOffer([{ kind: 'video', codecs: [H264], direction: 'sendonly' }]);
    assertError(await postOffer(s, idle.id, sendonly), 422, 'unsupported_offer', /nothing to receive/);
    const inactive = handOffer([{ kind: 'audio', codecs: [OPUS], direction: 'inactive' }]);
    assertError(await postOffer(s, idle.id, inactive), 422, 'unsupported_offer');
    const data = handOffer([{ kind: 'application', codecs: [], direction: 'recvonly' }]);
    assertError(await postOffer(s, idle.id, data), 422, 'unsupported_offer');
    const codecs = handOffer([
      { kind: 'video', codecs: ['AV1/90000'], direction: 'recvonly' },
      { kind: 'audio', codecs: ['PCMU/8000'], direction: 'recvonly' },
    ]);
    assertError(await postOffer(s, idle.id, codecs), 422, 'unsupported_offer', /H\.264/);
    const twoVideo = handOffer([
      { kind: 'video', codecs: [H264], direction: 'recvonly' },
      { kind: 'video', codecs: [VP8], direction: 'recvonly' },
    ]);
    assertError(await postOffer(s, idle.id, twoVideo), 422, 'unsupported_offer', /2 video/);
  });

  void test('an offer without ICE credentials or a fingerprint → 422 naming what is missing', async () => {
    const res = await postOffer(s, idle.id, RECVONLY);
    const { message } = assertError(res, 422, 'unsupported_offer', /a=ice-ufrag/);
    assert.match(message, /a=fingerprint/);
  });

  void test('body over 64 KiB → 413 payload_too_large (declared and chunked)', async () => {
    const big = RECVONLY + `a=x-padding:${'x'.repeat(70 * 1024)}\r\n`;
    assertError(await postOffer(s, idle.id, big), 413, 'payload_too_large');
    assertError(await postOffer(s, idle.id, big, { chunked: true }), 413, 'payload_too_large');
  });

  void test("client address outside the channel's preview allow-list → 403 forbidden", async () => {
    assertError(await postOffer(s, fenced.id, await realOffer()), 403, 'forbidden', /preview/);
  });

  void test('OPTIONS preflight: CORS exposing Location, ETag, Link; Accept-Post', async () => {
    const res = await call(s, 'OPTIONS', `/whep/${idle.id}`, {
      headers: { origin: 'https://player.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 204);
    assert.equal(header(res, 'access-control-allow-origin'), '*');
    const expose = headerList(res, 'access-control-expose-headers');
    for (const h of ['location', 'etag', 'link']) assert.ok(expose.includes(h), `Expose-Headers lacks ${h}`);
    const methods = headerList(res, 'access-control-allow-methods');
    for (const m of ['post', 'delete', 'options']) assert.ok(methods.includes(m), `Allow-Methods lacks ${m}`);
    assert.ok(headerList(res, 'access-control-allow-headers').includes('content-type'));
    assert.equal(header(res, 'accept-post'), 'application/sdp');
    assert.equal(header(res, 'link'), '', 'no ICE servers configured, no Link');
  });

  void test('other methods → 405; unknown sessions → 404; bad paths → 400/404', async () => {
    assertError(await call(s, 'GET', `/whep/${idle.id}`), 405, 'method_not_allowed');
    assertError(await call(s, 'DELETE', `/whep/${idle.id}/sessions/nope`), 404, 'session_not_found');
    assertError(
      await call(s, 'PATCH', `/whep/${idle.id}/sessions/nope`, {
        body: 'a=end-of-candidates\r\n',
        headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      }),
      404,
      'session_not_found',
    );
    assertError(await call(s, 'GET', '/whep'), 404, 'not_found');
    assertError(await call(s, 'POST', '/whep/%ZZ', { body: RECVONLY }), 400, 'bad_request');
  });
});

void describe('WHEP sessions', () => {
  let live: Channel;
  let publisher: WhipPublisher | undefined;
  let baselinePorts: Set<number>;

  before(async () => {
    // No session of any kind yet: what the server holds now is what it must come back to.
    baselinePorts = udpPortsOf(s.pid!);
    live = await createChannel(s, { name: 'live', mode: 'passthrough' });
    publisher = await publishTo(s, live, { gop: 20 });
  });

  after(async () => {
    await publisher?.stop();
  });

  void test('201 with a sendonly answer offering only the publisher’s codecs; media arrives; DELETE ends it', async () => {
    const group = await watchWhepProcess({ url: `${s.url}/whep/${live.id}` });
    try {
      const [v] = group.posted;
      assert.ok(v);
      assert.equal(v.status, 201, v.answer);
      assert.match(v.location ?? '', new RegExp(`^/whep/${live.id}/sessions/[A-Za-z0-9_-]{20,}$`));
      assert.match(v.etag ?? '', /^"[^"]+"$/);
      const secs = sections(v.answer);
      assert.deepEqual(
        secs.map((x) => [x.kind, x.direction, x.codecs.join(',')]),
        [
          ['video', 'sendonly', 'H264'],
          ['audio', 'sendonly', 'OPUS'],
        ],
        v.answer,
      );
      assert.match(v.answer, /^a=fmtp:\d+ .*packetization-mode=1/m);
      assert.match(
        v.answer,
        /^a=rtcp-fb:\d+ nack pli$/m,
        'PLI is declared, so the viewer can ask for keyframes',
      );
      assert.match(v.answer, /^a=msid:\S+ \S+/m, 'tracks belong to a stream');
      const candidates = [...v.answer.matchAll(/^a=candidate:\S+ \d+ \w+ \d+ (\S+) /gm)];
      assert.ok(candidates.length > 0, 'every candidate is in the answer');
      for (const c of candidates) assert.equal(c[1], '127.0.0.1');

      await group.connected;
      const report = await firstViewerWhen(
        group,
        'video and audio at the viewer',
        (r) => r.counters.video.keyframes >= 1 && r.counters.audio.packets > 20,
        10_000,
      );
      assert.equal(report.counters.video.codec?.toUpperCase(), 'H264');
      assert.equal(report.counters.video.ssrcs.length, 1);
      assert.ok(report.counters.video.firstKeyframeAt! - v.postedAt < 3000, 'the picture starts within 3 s');

      const st = await stats(s, live.id);
      assert.equal(st.viewers?.count, 1);
      assert.equal(st.viewers?.connected, 1);
      assert.ok((st.viewers?.packetsSent ?? 0) > 0);
      const metrics = await call(s, 'GET', '/metrics');
      assert.match(metrics.text, new RegExp(`^onair_whep_viewers\\{channel="${live.id}"\\} 1$`, 'm'));

      // The session URL: no trickle, and DELETE ends it at once.
      const patch = await call(s, 'PATCH', v.location!, {
        body: 'a=end-of-candidates\r\n',
        headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      });
      assertError(patch, 405, 'method_not_allowed');
      assertError(
        await call(s, 'PATCH', v.location!, { body: '{}', headers: { 'content-type': 'application/json' } }),
        415,
        'unsupported_media_type',
      );
      const del = await call(s, 'DELETE', v.location!);
      assert.equal(del.status, 200, del.text);
      assert.equal(header(del, 'access-control-allow-origin'), '*');
      assertError(await call(s, 'DELETE', v.location!), 404, 'session_not_found');
      assert.equal((await stats(s, live.id)).viewers?.count, 0);
    } finally {
      await group.stop();
    }
  });

  void test("a viewer's NACKs are answered from the retransmission buffer", async (t) => {
    // The viewer drops 3 % of what arrives, as a lossy network would, and asks for it again.
    const group = await watchWhepProcess({ url: `${s.url}/whep/${live.id}`, lossPercent: 3 });
    try {
      assert.equal(group.posted[0]?.status, 201, group.posted[0]?.answer);
      await group.connected;
      const r = await firstViewerWhen(
        group,
        'resent packets at the viewer',
        (x) => x.counters.video.backwards >= 10,
        15_000,
      );
      const st = await stats(s, live.id);
      t.diagnostic(
        `viewer: ${r.counters.video.packets} video packets, ${r.counters.video.gaps} dropped, ${r.counters.video.backwards} resent; server: ${st.viewers?.packetsNacked} NACKed`,
      );
      assert.ok((st.viewers?.packetsNacked ?? 0) > 0, 'the server counted the NACKs');
    } finally {
      await group.stop();
    }
  });

  void test('an offer that cannot receive the publisher’s codec → 422 naming it', async () => {
    const res = await postOffer(s, live.id, await realOffer({ videoCodecs: ['VP8'] }));
    assertError(res, 422, 'unsupported_offer', /H\.264/);
  });

  void test('an audio-only offer is served the audio alone', async () => {
    const group = await watchWhepProcess({ url: `${s.url}/whep/${live.id}`, video: false });
    try {
      const [v] = group.posted;
      assert.equal(v?.status, 201, v?.answer);
      assert.deepEqual(
        sections(v.answer).map((x) => [x.kind, x.direction, x.codecs.join(',')]),
        [['audio', 'sendonly', 'OPUS']],
      );
    } finally {
      await group.stop();
    }
  });

  void test('the publisher reconnects: the viewer continues on the new tracks, one SSRC, no gap, no renegotiation', async () => {
    const group = await watchWhepProcess({ url: `${s.url}/whep/${live.id}` });
    try {
      assert.equal(group.posted[0]?.status, 201);
      await group.connected;
      await waitFor(
        'video at the viewer',
        async () => ((await group.stats())[0]?.counters.video.keyframes ?? 0) >= 1,
        10_000,
      );
      await publisher?.stop();
      await sleep(1000);
      const during = (await group.stats())[0]!;
      assert.equal(during.state, 'connected', 'the viewer waits for the next publisher');
      publisher = await publishTo(s, live, { gop: 20 });
      const after = await firstViewerWhen(
        group,
        'video from the new publisher',
        (r) =>
          r.counters.video.keyframes > during.counters.video.keyframes &&
          r.counters.video.packets > during.counters.video.packets + 50,
        10_000,
      );
      for (const kind of ['video', 'audio'] as const) {
        const c = after.counters[kind];
        assert.equal(c.ssrcs.length, 1, `${kind}: one SSRC across publishers`);
        assert.equal(c.gaps, 0, `${kind}: no sequence gap`);
        assert.equal(c.backwards, 0, `${kind}: no sequence going back`);
      }
      // The timestamps move on by about the time the publisher was away, not by a random jump.
      const jump = after.counters.video.maxTsJump / 90_000;
      assert.ok(jump > 0.5 && jump < 10, `video timestamp step across the reconnect: ${jump} s`);
      const st = await stats(s, live.id);
      assert.equal(st.viewers?.count, 1);
    } finally {
      await group.stop();
    }
  });

  void test('a VP8 publisher: the answer offers VP8, and VP8 arrives', async () => {
    const vp8 = await createChannel(s, { name: 'vp8', mode: 'encode', ladder: '480p' });
    const pub = await publishTo(s, vp8, { gop: 20, videoCodec: 'VP8' });
    const group = await watchWhepProcess({ url: `${s.url}/whep/${vp8.id}` });
    try {
      assert.equal(group.posted[0]?.status, 201, group.posted[0]?.answer);
      assert.deepEqual(
        sections(group.posted[0].answer).map((x) => x.codecs.join(',')),
        ['VP8', 'OPUS'],
      );
      await group.connected;
      const r = await firstViewerWhen(group, 'VP8 keyframes', (x) => x.counters.video.keyframes >= 1, 10_000);
      assert.equal(r.counters.video.codec?.toUpperCase(), 'VP8');
      // An H.264-only viewer cannot watch it.
      assertError(
        await postOffer(s, vp8.id, await realOffer({ videoCodecs: ['H264'] })),
        422,
        'unsupported_offer',
        /VP8/,
      );
    } finally {
      await group.stop();
      await pub.stop();
      await s.api('POST', `/api/v1/channels/${vp8.id}/stop`);
    }
  });

  void test('stopping the channel ends every viewer session; no UDP port is left behind', async () => {
    const group: ViewerGroup = await watchWhepProcess({ url: `${s.url}/whep/${live.id}`, count: 3 });
    try {
      assert.deepEqual(
        group.posted.map((p) => p.status),
        [201, 201, 201],
      );
      await group.connected;
      assert.equal((await stats(s, live.id)).viewers?.count, 3);
      const stoppedRes = await s.api('POST', `/api/v1/channels/${live.id}/stop`);
      assert.equal(stoppedRes.status, 200, stoppedRes.text);
      for (const p of group.posted)
        assertError(await call(s, 'DELETE', p.location!), 404, 'session_not_found');
      await publisher?.stop();
      publisher = undefined;
      await waitFor(
        'the server to hold no more UDP ports than before any session',
        () => [...udpPortsOf(s.pid!)].every((p) => baselinePorts.has(p)),
        10_000,
      );
      const metrics = await call(s, 'GET', '/metrics');
      assert.doesNotMatch(metrics.text, new RegExp(`onair_whep_viewers\\{channel="${live.id}"\\}`));
    } finally {
      await group.stop();
    }
  });
});

void describe('WHEP with ICE servers and a viewer limit of 1', () => {
  let s2: TestServer;
  let ch: Channel;
  let pub: WhipPublisher | undefined;
  before(async () => {
    s2 = await startServer({
      env: {
        ONAIR_LOOPBACK_ONLY_ICE: '1',
        ONAIR_WHEP_MAX_VIEWERS: '1',
        ONAIR_ICE_SERVERS: '[{"urls":"stun:stun.example.com:3478"}]',
      },
    });
    ch = await createChannel(s2, { name: 'limited', mode: 'passthrough' });
    pub = await publishTo(s2, ch, { gop: 20 });
  });
  after(async () => {
    await pub?.stop();
    await s2?.dispose();
  });

  void test('ICE servers as Link rel="ice-server" on OPTIONS and 201; beyond the limit 503 with Retry-After', async () => {
    const opts = await call(s2, 'OPTIONS', `/whep/${ch.id}`);
    assert.match(header(opts, 'link'), /<stun:stun\.example\.com:3478>;\s*rel="ice-server"/);
    const group = await watchWhepProcess({ url: `${s2.url}/whep/${ch.id}` });
    try {
      assert.equal(group.posted[0]?.status, 201);
      const second = await postOffer(s2, ch.id, await realOffer());
      assertError(second, 503, 'viewer_limit_reached', /1 real-time viewer/);
      assertRetryAfter(second);
      assert.equal((await stats(s2, ch.id)).viewers?.limit, 1);
    } finally {
      await group.stop();
    }
    // The place is free again.
    const again = await watchWhepProcess({ url: `${s2.url}/whep/${ch.id}` });
    assert.equal(again.posted[0]?.status, 201);
    await again.stop();
  });

  void test('error logs: none', () => {
    assert.deepEqual(s2.errorLogs(), []);
  });
});

void describe('WHEP rate limit', () => {
  const suite = suiteServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHEP_RATE_LIMIT: '3' } });

  void test('more than ONAIR_WHEP_RATE_LIMIT POSTs a minute from one address → 429 with Retry-After', async () => {
    const s3 = suite.server;
    const ch = await createChannel(s3, { name: 'rate' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await postOffer(s3, ch.id, 'garbage')).status);
    assert.deepEqual(statuses, [400, 400, 400]);
    const res = await postOffer(s3, ch.id, RECVONLY);
    assertError(res, 429, 'rate_limited');
    assertRetryAfter(res);
    const opts = await call(s3, 'OPTIONS', `/whep/${ch.id}`);
    assert.equal(opts.status, 204, 'preflights are not limited');
  });
});

void describe('afterwards', () => {
  void test('the server is alive, no request was answered 500 and nothing was logged as an error', async () => {
    const health = await s.request('GET', '/healthz', { auth: false });
    assert.equal(health.status, 200);
    assert.deepEqual(
      replies.filter((r) => r.status >= 500 && r.status !== 503),
      [],
    );
    assert.deepEqual(s.errorLogs(), []);
  });
});
