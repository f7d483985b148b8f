/**
 * The live path end to end against the real server process: a werift WHIP
 * publisher (FFmpeg-generated H.264 + Opus on loopback) → SFU → FFmpeg → CMAF →
 * HLS and DASH. Encode mode (720p ladder), a publisher that vanishes and comes
 * back, an FFmpeg crash, stop, server shutdown, and passthrough mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Channel } from '../../lib/schemas.ts';
import { startServer, type Reply, type TestServer } from '../helpers/server.ts';
import { getBytes, header } from '../helpers/replies.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';
import { createChannel as createChannelIn, publishTo, startChannel } from '../helpers/live-channel.ts';
import { allProcesses, ffmpegChildren, isAlive, udpPortsOf, waitFor } from '../helpers/procs.ts';
import { parseMediaPlaylist, type MediaSegment } from '../helpers/playlists.ts';

const run = promisify(execFile);
const SEGMENT_SECONDS = 2;

let s: TestServer;
let serverPid: number;
const publishers: WhipPublisher[] = [];
const tmp = mkdtempSync(path.join(tmpdir(), 'onair-live-test-'));

before(async () => {
  // A window of 10 segments keeps the run before a reconnect or a crash in view.
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_LIVE_WINDOW_SEGMENTS: '10' } });
  assert.ok(s.pid);
  serverPid = s.pid;
});

after(async () => {
  for (const p of publishers) await p.stop().catch(() => undefined);
  if (s?.stderr.trim()) console.error(`server stderr:\n${s.stderr.slice(-4000)}`);
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

// ── helpers ──────────────────────────────────────────────────────────────

function get(p: string): Promise<Reply> {
  return s.request('GET', p, { auth: false });
}

/** A GET with the path sent byte for byte (no URL normalisation on our side). */
function rawGet(rawPath: string): Promise<{ status: number; body: Buffer }> {
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: rawPath, method: 'GET', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function createChannel(body: Record<string, unknown>): Promise<Channel> {
  return startChannel(s, (await createChannelIn(s, { name: 'live test', ...body })).id);
}

async function publish(c: Channel): Promise<WhipPublisher> {
  return publishTo(s, c, { width: 1280, height: 720, track: publishers });
}

interface Event {
  id: number;
  type: string;
  message: string;
}

async function events(channelId: string): Promise<Event[]> {
  const res = await s.api<{ items: Event[] }>('GET', `/api/v1/channels/${channelId}/events?limit=200`);
  assert.equal(res.status, 200, res.text);
  return res.json.items.slice().sort((a, b) => a.id - b.id);
}

async function lastEventId(channelId: string): Promise<number> {
  return Math.max(0, ...(await events(channelId)).map((e) => e.id));
}

/** Waits for events of these types, in this order, after event id `since`. */
async function waitForEvents(
  channelId: string,
  since: number,
  types: string[],
  timeoutMs: number,
): Promise<Event[]> {
  return waitFor(
    `events ${types.join(' → ')}`,
    async () => {
      const list = (await events(channelId)).filter((e) => e.id > since);
      const found: Event[] = [];
      for (const e of list) if (e.type === types[found.length]) found.push(e);
      return found.length === types.length ? found : undefined;
    },
    timeoutMs,
    300,
  );
}

async function mediaPlaylist(channelId: string, trackId: string) {
  const res = await get(`/live/${channelId}/${trackId}.m3u8`);
  assert.equal(res.status, 200, `${trackId}.m3u8 → ${res.status}: ${res.text}`);
  return { text: res.text, ...parseMediaPlaylist(res.text) };
}

interface ProbeStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

/** Fetches init + the given segment, concatenates them and runs ffprobe. */
async function probe(channelId: string, seg: MediaSegment, name: string): Promise<ProbeStream[]> {
  const init = await getBytes(s, `/live/${channelId}/${seg.map}`);
  assert.equal(init.status, 200, `init ${seg.map}`);
  const media = await getBytes(s, `/live/${channelId}/${seg.uri}`);
  assert.equal(media.status, 200, `segment ${seg.uri}`);
  assert.ok(media.body.length > 0);
  const file = path.join(tmp, `${name}.mp4`);
  writeFileSync(file, Buffer.concat([init.body, media.body]));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: ProbeStream[] }).streams;
}

function metric(text: string, name: string, channelId: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`channel="${channelId}"`));
  assert.ok(line, `no ${name} for ${channelId} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The server's encoder FFmpeg for this channel: it reads the channel's RTP input SDP. */
function channelFfmpeg(channelId: string) {
  return ffmpegChildren(serverPid).filter((p) =>
    p.cmdline.some((a) => a.includes(channelId) && a.endsWith('input.sdp')),
  );
}

// ── encode mode ──────────────────────────────────────────────────────────

void describe('encode mode, 720p ladder', () => {
  let ch: Channel;
  let pub: WhipPublisher;
  const channelUdpPorts = new Set<number>();

  before(async () => {
    ch = await createChannel({
      name: 'encode',
      mode: 'encode',
      ladder: '720p',
      segmentSeconds: SEGMENT_SECONDS,
    });
    pub = await publish(ch);
  });

  void test('master.m3u8 within 15 s lists the three renditions and the audio group', async () => {
    const res = await waitFor(
      'master.m3u8',
      async () => {
        const r = await get(`/live/${ch.id}/master.m3u8`);
        return r.status === 200 ? r : undefined;
      },
      Math.max(1000, pub.postedAt + 15_000 - Date.now()),
      250,
    );
    const text = res.text;
    assert.match(text, /^#EXTM3U\n/);
    assert.match(text, /^#EXT-X-INDEPENDENT-SEGMENTS$/m);
    const media = /^#EXT-X-MEDIA:(.*)$/m.exec(text)?.[1] ?? '';
    assert.match(media, /TYPE=AUDIO/);
    const group = /GROUP-ID="([^"]+)"/.exec(media)?.[1];
    assert.ok(group, `no audio group: ${text}`);
    assert.match(media, /URI="audio\.m3u8"/);
    const variants = [...text.matchAll(/^#EXT-X-STREAM-INF:(.*)\n(.*)$/gm)].map((m) => ({
      attrs: m[1]!,
      uri: m[2]!,
    }));
    assert.deepEqual(
      variants.map((v) => /RESOLUTION=(\d+x\d+)/.exec(v.attrs)?.[1]),
      ['1280x720', '854x480', '640x360'],
      text,
    );
    assert.deepEqual(
      variants.map((v) => v.uri),
      ['720p.m3u8', '480p.m3u8', '360p.m3u8'],
    );
    for (const v of variants) {
      assert.match(v.attrs, /CODECS="avc1\.[0-9a-fA-F]{6},mp4a\.40\.2"/, v.attrs);
      assert.ok(Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(v.attrs)?.[1]) > 0, v.attrs);
      const fps = Number(/FRAME-RATE=([\d.]+)/.exec(v.attrs)?.[1]);
      assert.ok(fps > 19 && fps < 21, `FRAME-RATE ${fps}: ${v.attrs}`);
      assert.match(v.attrs, new RegExp(`AUDIO="${group}"`));
    }
    const bw = variants.map((v) => Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(v.attrs)?.[1]));
    assert.ok(bw[0]! > bw[1]! && bw[1]! > bw[2]!, `BANDWIDTH not descending: ${bw.join(' ')}`);
    // Live playlists may be cached about half a segment (a CDN edge collapses polling).
    assert.equal(header(res, 'cache-control'), 'public, max-age=1');
    assert.match(header(res, 'content-type'), /^application\/vnd\.apple\.mpegurl/);
    assert.equal(header(res, 'access-control-allow-origin'), '*');
  });

  void test('media playlists carry EXT-X-MAP and EXT-X-PROGRAM-DATE-TIME; segments probe as H.264 854x480 and AAC 48 kHz stereo', async () => {
    for (const track of ['720p', '480p', '360p', 'audio']) {
      const pl = await waitFor(
        `${track}.m3u8 with a segment`,
        async () => {
          const r = await get(`/live/${ch.id}/${track}.m3u8`);
          return r.status === 200 ? r : undefined;
        },
        10_000,
      );
      assert.match(pl.text, /^#EXT-X-MAP:URI="[^"]+"$/m, `${track}: ${pl.text}`);
      assert.match(pl.text, /^#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/m);
      assert.match(pl.text, /^#EXT-X-TARGETDURATION:\d+$/m);
      assert.match(pl.text, /^#EXTINF:[\d.]+,$/m);
      assert.equal(header(pl, 'cache-control'), 'public, max-age=1');
      assert.match(header(pl, 'content-type'), /^application\/vnd\.apple\.mpegurl/);
      assert.equal(header(pl, 'access-control-allow-origin'), '*');
      const parsed = parseMediaPlaylist(pl.text);
      for (const seg of parsed.segments) assert.ok(seg.pdt, `segment ${seg.uri} has no PROGRAM-DATE-TIME`);
    }

    const video = await mediaPlaylist(ch.id, '480p');
    const vseg = video.segments[video.segments.length - 1]!;
    const vstreams = await probe(ch.id, vseg, 'v480');
    const v = vstreams.find((x) => x.codec_type === 'video');
    assert.ok(v, JSON.stringify(vstreams));
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.width, 854);
    assert.equal(v.height, 480);

    const audio = await mediaPlaylist(ch.id, 'audio');
    const astreams = await probe(ch.id, audio.segments[audio.segments.length - 1]!, 'audio');
    const a = astreams.find((x) => x.codec_type === 'audio');
    assert.ok(a, JSON.stringify(astreams));
    assert.equal(a.codec_name, 'aac');
    assert.equal(a.sample_rate, '48000');
    assert.equal(a.channels, 2);

    // Segment and init headers.
    for (const uri of [vseg.uri, vseg.map]) {
      const r = await getBytes(s, `/live/${ch.id}/${uri}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'video/mp4');
      assert.match(String(r.headers['cache-control']), /immutable/);
      assert.match(String(r.headers['cache-control']), /max-age=\d{6,}/);
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.equal(Number(r.headers['content-length']), r.body.length);
    }
    const aseg = await getBytes(s, `/live/${ch.id}/${audio.segments[0]!.uri}`);
    assert.match(String(aseg.headers['content-type']), /^(audio|video)\/mp4$/);
    assert.match(String(aseg.headers['cache-control']), /immutable/);
  });

  void test('paths outside the channel folder are 404, never a file', async () => {
    const video = await mediaPlaylist(ch.id, '480p');
    const run = video.segments[0]!.uri.split('/')[0]!;
    for (const p of [
      `/live/${ch.id}/..%2F..%2Fonair.db`,
      `/live/${ch.id}/..%2f..%2f..%2fetc%2fpasswd`,
      `/live/${ch.id}/${run}/480p/..%2F..%2F..%2Fonair.db`,
      `/live/${ch.id}/${run}/480p/input.sdp`,
      `/live/${ch.id}/${run}/input.sdp`,
      `/live/${ch.id}/${run}/480p/index.m3u8`,
      `/live/${ch.id}/${run}/..%2F${run}/480p/init.mp4`,
      `/live/${ch.id}/../${ch.id}x/master.m3u8`,
      `/live/${ch.id}/%2e%2e/${ch.id}x/master.m3u8`,
      `/live/..%2F..%2Fonair.db/master.m3u8`,
      `/live/${ch.id}/${run}/480p/init.mp4%00`,
      `/live/${ch.id}/${run}/480p/init.mp4/`,
    ]) {
      const r = await rawGet(p);
      assert.equal(r.status, 404, `${p} → ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`);
      assert.ok(!r.body.includes('SQLite format'), `${p} served the database`);
    }
    // Dot segments that climb out of /live are resolved by URL parsing before routing: whatever
    // answers them (the UI's 404; with ONAIR_UI=0 a 503), it is never a file of the data dir.
    for (const p of [
      `/live/${ch.id}/../../x`,
      `/live/${ch.id}/%2e%2e/%2e%2e/onair.db`,
      `/live/${ch.id}/../../../../etc/passwd`,
    ]) {
      const r = await rawGet(p);
      assert.ok(r.status === 404 || r.status === 503, `${p} → ${r.status}`);
      assert.ok(!r.body.includes('SQLite format') && !r.body.includes('root:'), `${p} served a file`);
    }
  });

  void test("the MPD is dynamic, syncs to this server's /time and has a Representation per rendition", async () => {
    const res = await get(`/live/${ch.id}/manifest.mpd`);
    assert.equal(res.status, 200, res.text);
    assert.match(header(res, 'content-type'), /^application\/dash\+xml/);
    // Live playlists may be cached about half a segment (a CDN edge collapses polling).
    assert.equal(header(res, 'cache-control'), 'public, max-age=1');
    assert.equal(header(res, 'access-control-allow-origin'), '*');
    const mpd = res.text;
    assert.match(mpd, /<MPD[^>]*\stype="dynamic"/);
    assert.match(mpd, /<MPD[^>]*\savailabilityStartTime="[^"]+"/);
    const timing = /<UTCTiming\s+schemeIdUri="([^"]+)"\s+value="([^"]+)"/.exec(mpd);
    assert.ok(timing, `no UTCTiming: ${mpd}`);
    assert.match(timing[1]!, /^urn:mpeg:dash:utc:http-(iso|xsdate):2014$/);
    assert.equal(new URL(timing[2]!.replace(/&amp;/g, '&'), s.url).href, `${s.url}/time`);
    const reps = [...mpd.matchAll(/<Representation\s[^>]*id="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(reps.sort(), ['360p', '480p', '720p', 'audio']);
    assert.match(mpd, /<Representation[^>]*id="480p"[^>]*width="854"[^>]*height="480"/);
    assert.equal((mpd.match(/<Period\b/g) ?? []).length, 1);

    const time = await get('/time');
    assert.equal(time.status, 200);
    const at = Date.parse(time.text.trim());
    assert.match(time.text.trim(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(at - Date.now()) < 2000, `/time ${time.text} is not now`);
    assert.equal(header(time, 'access-control-allow-origin'), '*');
  });

  void test('stats and /metrics report ingest, encoder and output', async () => {
    const stats = await waitFor(
      'stats with kbps and speed',
      async () => {
        const r = await s.api<{
          live: boolean;
          ingest: { videoCodec: string; kbps: number; connectedSince: string | null } | null;
          encoder: { running: boolean; speed: number | null; renditions: string[] } | null;
          output: { segments: number; lastSegmentAt: string | null } | null;
        }>('GET', `/api/v1/channels/${ch.id}/stats`);
        assert.equal(r.status, 200, r.text);
        return r.json.ingest && r.json.ingest.kbps > 0 && r.json.encoder?.speed ? r.json : undefined;
      },
      8000,
      500,
    );
    assert.equal(stats.live, true);
    assert.equal(stats.ingest?.videoCodec, 'H264');
    assert.ok(stats.ingest && stats.ingest.kbps > 100, `ingest kbps ${stats.ingest?.kbps}`);
    assert.ok(stats.ingest.connectedSince && !Number.isNaN(Date.parse(stats.ingest.connectedSince)));
    assert.equal(stats.encoder?.running, true);
    assert.deepEqual(stats.encoder.renditions, ['720p', '480p', '360p']);
    assert.ok((stats.output?.segments ?? 0) > 0);
    assert.ok(stats.output?.lastSegmentAt);

    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.ok(metric(metrics.text, 'onair_ingest_bitrate_bits', ch.id) >= 0);
    assert.ok(metric(metrics.text, 'onair_encoder_speed', ch.id) > 0);
    assert.ok(metric(metrics.text, 'onair_segments_written_total', ch.id) > 0);
    assert.match(metrics.text, /^# TYPE onair_segments_written_total counter$/m);
  });

  void test('without a slate, a publisher that vanishes is dropped within 10 s; coming back continues the same playlist after a discontinuity', async () => {
    // The slate would cover the gap in the same run (see failover.test.ts): this is the path without it.
    const off = await s.api<Channel>('PATCH', `/api/v1/channels/${ch.id}`, { slateAfterMs: 0 });
    assert.equal(off.json.slateAfterMs, 0);
    const before = await lastEventId(ch.id);
    await pub.vanish();
    const vanishedAt = Date.now();
    await waitForEvents(ch.id, before, ['publisher.disconnected'], 10_000);
    assert.ok(Date.now() - vanishedAt < 10_000);
    const c = await s.api<Channel>('GET', `/api/v1/channels/${ch.id}`);
    assert.equal(c.json.state, 'running');

    pub = await publish(ch); // same key, accepted again
    const pl = await waitFor(
      'a discontinuity in 480p.m3u8',
      async () => {
        const p = await mediaPlaylist(ch.id, '480p');
        // New segments after the discontinuity, the old run still in the window.
        return p.discontinuities >= 1 && p.segments.at(-1)!.map === p.maps.at(-1) && p.maps.length >= 2
          ? p
          : undefined;
      },
      20_000,
      500,
    );
    assert.match(pl.text, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="[^"]+"/);
    assert.notEqual(pl.maps[0], pl.maps.at(-1), 'the new run has its own init segment');
    const runs = new Set(pl.segments.map((x) => x.uri.split('/')[0]));
    assert.ok(runs.size >= 2, 'segments of both runs in the one playlist');
    const mpd = await get(`/live/${ch.id}/manifest.mpd`);
    assert.ok(
      (mpd.text.match(/<Period\b/g) ?? []).length >= 2,
      `the MPD should have two Periods:\n${mpd.text}`,
    );
    await waitForEvents(
      ch.id,
      before,
      ['publisher.disconnected', 'publisher.connected', 'encoder.started'],
      5000,
    );
  });

  void test('FFmpeg killed while live → encoder.failed, encoder.restarted, and segments keep coming', async () => {
    const procs = await waitFor(
      "the channel's FFmpeg",
      () => {
        const list = channelFfmpeg(ch.id);
        return list.length === 1 ? list : undefined;
      },
      5000,
    );
    const victim = procs[0]!.pid;
    for (const port of udpPortsOf(victim)) channelUdpPorts.add(port);
    const segs = (await mediaPlaylist(ch.id, '480p')).segments;
    const lastBefore = segs.at(-1)!.uri;
    const since = await lastEventId(ch.id);
    process.kill(victim, 'SIGKILL');
    const [failed] = await waitForEvents(ch.id, since, ['encoder.failed', 'encoder.restarted'], 10_000);
    assert.match(failed!.message, /SIGKILL|unexpectedly/);
    const fresh = await waitFor(
      'a new FFmpeg',
      () => {
        const list = channelFfmpeg(ch.id).filter((p) => p.pid !== victim);
        return list.length === 1 ? list[0] : undefined;
      },
      10_000,
    );
    assert.ok(!isAlive(victim));
    for (const port of udpPortsOf(fresh.pid)) channelUdpPorts.add(port);
    const after = await waitFor(
      'new segments after the restart',
      async () => {
        const p = await mediaPlaylist(ch.id, '480p');
        const i = p.segments.findIndex((x) => x.uri === lastBefore);
        return p.segments.length > i + 1 && p.segments.at(-1)!.uri.split('/')[0] !== lastBefore.split('/')[0]
          ? p
          : undefined;
      },
      15_000,
      500,
    );
    assert.ok(after.discontinuities >= 1);
    const state = await s.api<Channel>('GET', `/api/v1/channels/${ch.id}`);
    assert.equal(state.json.state, 'running');
    assert.equal(state.json.live, true);
  });

  void test('stop: no FFmpeg or UDP port of the channel remains; the playlists go away', async () => {
    for (const port of udpPortsOf(serverPid)) channelUdpPorts.add(port);
    for (const p of channelFfmpeg(ch.id)) for (const port of udpPortsOf(p.pid)) channelUdpPorts.add(port);
    assert.ok(channelUdpPorts.size > 0, 'the live channel should hold UDP ports');
    const ffmpegs = channelFfmpeg(ch.id).map((p) => p.pid);
    assert.equal(
      ffmpegs.length,
      1,
      `one FFmpeg per channel, found:\n${channelFfmpeg(ch.id)
        .map((p) => `${p.pid} ${p.cmdline.join(' ').slice(0, 600)}`)
        .join('\n')}\n${JSON.stringify((await events(ch.id)).slice(-12))}`,
    );

    const res = await s.api<Channel>('POST', `/api/v1/channels/${ch.id}/stop`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.state, 'stopped');
    await waitFor(
      'no FFmpeg child',
      () => ffmpegChildren(serverPid).length === 0 && ffmpegs.every((pid) => !isAlive(pid)),
      8000,
    );
    await waitFor(
      "the channel's UDP ports closed",
      () => {
        const held = udpPortsOf(serverPid);
        return [...channelUdpPorts].every((p) => !held.has(p));
      },
      5000,
    );
    const held = udpPortsOf(serverPid);
    assert.equal(held.size, 0, `the server still holds UDP ports ${[...held].join(', ')}`);
    const master = await get(`/live/${ch.id}/master.m3u8`);
    assert.ok(master.status === 404 || master.status === 409, `master after stop → ${master.status}`);
    const mpd = await get(`/live/${ch.id}/manifest.mpd`);
    assert.ok(mpd.status === 404 || mpd.status === 409, `MPD after stop → ${mpd.status}`);
    const evs = (await events(ch.id)).map((e) => e.type);
    assert.ok(evs.includes('publisher.disconnected'));
    await pub.stop();
  });
});

// ── passthrough, then shutdown while live ────────────────────────────────

void describe('passthrough mode', () => {
  let ch: Channel;
  before(async () => {
    ch = await createChannel({ name: 'passthrough', mode: 'passthrough', segmentSeconds: SEGMENT_SECONDS });
    await publish(ch);
  });

  void test("one source variant at 1280x720; its segments are the publisher's H.264", async () => {
    const master = await waitFor(
      'master.m3u8',
      async () => {
        const r = await get(`/live/${ch.id}/master.m3u8`);
        return r.status === 200 ? r.text : undefined;
      },
      15_000,
    );
    const variants = [...master.matchAll(/^#EXT-X-STREAM-INF:(.*)\n(.*)$/gm)];
    assert.equal(variants.length, 1, master);
    assert.equal(variants[0]![2], 'source.m3u8');
    assert.match(variants[0]![1]!, /RESOLUTION=1280x720/);
    assert.match(variants[0]![1]!, /CODECS="avc1\.[0-9a-fA-F]{6}/);
    const pl = await mediaPlaylist(ch.id, 'source');
    const streams = await probe(ch.id, pl.segments.at(-1)!, 'source');
    const v = streams.find((x) => x.codec_type === 'video');
    assert.ok(v, JSON.stringify(streams));
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.width, 1280);
    assert.equal(v.height, 720);
    const mpd = await get(`/live/${ch.id}/manifest.mpd`);
    assert.equal(mpd.status, 200);
    assert.match(mpd.text, /<Representation[^>]*id="source"[^>]*width="1280"[^>]*height="720"/);
  });

  void test('a program keeps what it recorded as an asset that plays on demand, beyond the live window', async () => {
    const pg = await s.api<{ id: string }>('POST', `/api/v1/channels/${ch.id}/programs`, { name: 'rec' });
    assert.equal((await s.api('POST', `/api/v1/programs/${pg.json.id}/start`)).status, 200);
    const before = (await mediaPlaylist(ch.id, 'source')).segments.length;
    await waitFor(
      'two more segments',
      async () => ((await mediaPlaylist(ch.id, 'source')).segments.length >= before + 2 ? true : undefined),
      15_000,
    );
    const stopped = await s.api<{ assetId: string }>('POST', `/api/v1/programs/${pg.json.id}/stop`);
    const asset = await waitFor(
      'the asset ready',
      async () => {
        const a = await s.api<{ id: string; bytes: number; durationSeconds: number; status: string }>(
          'GET',
          `/api/v1/assets/${stopped.json.assetId}`,
        );
        return a.json.status === 'ready' ? a.json : undefined;
      },
      10_000,
    );
    assert.ok(asset.bytes > 0, JSON.stringify(asset));
    assert.ok(asset.durationSeconds >= SEGMENT_SECONDS, JSON.stringify(asset));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      `${s.url}/vod/${asset.id}/source.m3u8`,
    ]);
    assert.ok(
      Math.abs(Number(stdout.trim()) - asset.durationSeconds) < 0.5,
      `${stdout} vs ${asset.durationSeconds}`,
    );
    const dir = path.join(s.dataDir, 'media', 'assets', asset.id);
    assert.ok(existsSync(dir));
    assert.equal((await s.api('DELETE', `/api/v1/assets/${asset.id}`)).status, 204);
    assert.equal(existsSync(dir), false);
  });

  void test('SIGTERM while live: the server exits and leaves no FFmpeg behind', async () => {
    const ffmpegs = channelFfmpeg(ch.id).map((p) => p.pid);
    assert.equal(ffmpegs.length, 1, 'one FFmpeg for the live passthrough channel');
    const t0 = Date.now();
    const code = await s.stop();
    assert.equal(code, 0, `exit code ${code}\n${s.stderr}`);
    assert.ok(Date.now() - t0 < 5000, 'shutdown took the SIGKILL fallback');
    await waitFor('FFmpeg gone', () => ffmpegs.every((pid) => !isAlive(pid)), 3000);
    const orphans = allProcesses().filter(
      (p) => p.state !== 'Z' && p.cmdline.some((a) => a.includes(s.dataDir)),
    );
    assert.deepEqual(
      orphans.map((p) => `${p.pid} ${p.comm}`),
      [],
      'processes still using the data dir',
    );
    const unhandled = s.logs.filter((l) => l.msg === 'unhandled error' || l.level === 60);
    assert.deepEqual(unhandled, [], 'the server logged unhandled errors');
  });
});
