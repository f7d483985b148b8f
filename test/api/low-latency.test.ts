/**
 * Low latency against the real server, FFmpeg and a WHIP publisher: LL-HLS
 * (parts, preload hint, blocking reload, delta updates, rendition reports),
 * low-latency DASH (the segment being written, sent in chunks), the caching
 * headers (ETag → 304, HEAD) and the channel's latency setting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Channel } from '../../lib/schemas.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';
import { publishTo, startChannel } from '../helpers/live-channel.ts';
import { waitFor } from '../helpers/procs.ts';

let s: TestServer;
let pub: WhipPublisher | undefined;
let ch: Channel;

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  ms: number;
  /** Time of the first body byte, from the request. */
  firstByteMs: number;
}

function get(p: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(p, s.url),
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let firstByteMs = -1;
        res.on('data', (c: Buffer) => {
          if (firstByteMs < 0) firstByteMs = Date.now() - t0;
          chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            ms: Date.now() - t0,
            firstByteMs,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** GETs `p` until it answers 200 with `marker` in its body (up to `timeoutMs`); returns that reply. */
function getWhen(what: string, p: string, marker: string, timeoutMs: number): Promise<Got> {
  return waitFor(
    what,
    async () => {
      const r = await get(p);
      return r.status === 200 && r.text.includes(marker) ? r : undefined;
    },
    timeoutMs,
  );
}

const base = (): string => `/live/${ch.id}`;

function tag(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`#${name}:`))
    .map((l) => l.slice(name.length + 2));
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|,)${name}=("[^"]*"|[^,]*)`).exec(attrs);
  return m?.[1]?.replace(/^"|"$/g, '');
}

/** The part the preload hint names, as (msn, part) of a blocking request. */
function nextPart(text: string): { msn: number; part: number; uri: string } {
  const hint = tag(text, 'EXT-X-PRELOAD-HINT')[0];
  assert.ok(hint, text);
  const uri = attr(hint, 'URI')!;
  const seq = Number(tag(text, 'EXT-X-MEDIA-SEQUENCE')[0]);
  const skipped = Number(attr(tag(text, 'EXT-X-SKIP')[0] ?? '', 'SKIPPED-SEGMENTS') ?? 0);
  const complete = text.split('\n').filter((l) => l.startsWith('#EXTINF:')).length + skipped;
  const part = Number(/\.p(\d+)\.m4s$/.exec(uri)?.[1]);
  // The hint names a part of the segment after the last complete one.
  return { msn: seq + complete, part, uri };
}

before(async () => {
  // 10 segments of 2 s: more than CAN-SKIP-UNTIL (12 s), so delta updates skip something.
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_LIVE_WINDOW_SEGMENTS: '10' } });
  const created = await s.api<Channel>('POST', '/api/v1/channels', {
    name: 'low latency',
    mode: 'passthrough',
    segmentSeconds: 2,
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.latency, 'low', 'low latency is the default');
  ch = await startChannel(s, created.json.id);
  pub = await publishTo(s, ch);
});

after(async () => {
  await pub?.stop().catch(() => undefined);
  if (s?.stderr.trim()) console.error(`server stderr:\n${s.stderr.slice(-4000)}`);
  await s?.dispose();
});

void describe('LL-HLS', () => {
  void test('the media playlist lists parts, a preload hint, server control and rendition reports', async () => {
    const pl = await getWhen(
      'a playlist with a complete segment',
      `${base()}/source.m3u8`,
      '#EXTINF',
      15_000,
    );
    assert.match(pl.text, /^#EXT-X-VERSION:9$/m);
    const control = tag(pl.text, 'EXT-X-SERVER-CONTROL')[0] ?? '';
    assert.equal(attr(control, 'CAN-BLOCK-RELOAD'), 'YES', pl.text);
    assert.equal(Number(attr(control, 'CAN-SKIP-UNTIL')), 12);
    const partTarget = Number(attr(tag(pl.text, 'EXT-X-PART-INF')[0] ?? '', 'PART-TARGET'));
    assert.ok(partTarget >= 0.5 && partTarget < 0.7, pl.text);
    assert.equal(Number(attr(control, 'PART-HOLD-BACK')), Number((partTarget * 3).toFixed(3)));
    const parts = tag(pl.text, 'EXT-X-PART');
    assert.ok(parts.length >= 2, pl.text);
    for (const p of parts) assert.ok(Number(attr(p, 'DURATION')) <= partTarget + 1e-9, p);
    assert.ok(
      parts.some((p) => attr(p, 'INDEPENDENT') === 'YES'),
      'the first part of a segment is independent',
    );
    const report = tag(pl.text, 'EXT-X-RENDITION-REPORT')[0] ?? '';
    assert.equal(attr(report, 'URI'), 'audio.m3u8', pl.text);
    assert.match(attr(report, 'LAST-MSN') ?? '', /^\d+$/);
    assert.ok(tag(pl.text, 'EXT-X-PRELOAD-HINT').length === 1);
    // Players without LL support read the same playlist: whole segments with EXTINF and a map.
    assert.match(pl.text, /^#EXT-X-MAP:URI="[^"]+"$/m);
  });

  void test("a complete segment's parts are byte ranges of it, served as files", async () => {
    const pl = await get(`${base()}/source.m3u8`);
    const lines = pl.text.split('\n');
    // The parts just before an EXTINF belong to that segment.
    const extinf = lines.findIndex(
      (l, i) => l.startsWith('#EXTINF') && lines[i - 1]?.startsWith('#EXT-X-PART:'),
    );
    assert.ok(extinf > 0, pl.text);
    const segUri = lines[extinf + 1]!;
    const partUris: string[] = [];
    for (let i = extinf - 1; i >= 0 && lines[i]!.startsWith('#EXT-X-PART:'); i--) {
      partUris.unshift(attr(lines[i]!.slice('#EXT-X-PART:'.length), 'URI')!);
    }
    const seg = await get(`${base()}/${segUri}`);
    assert.equal(seg.status, 200);
    const bodies: Buffer[] = [];
    for (const u of partUris) {
      const r = await get(`${base()}/${u}`);
      assert.equal(r.status, 200, u);
      assert.match(String(r.headers['cache-control']), /immutable/);
      bodies.push(r.body);
    }
    assert.ok(partUris.length >= 3, partUris.join(' '));
    assert.ok(Buffer.concat(bodies).equals(seg.body), 'the parts make up the segment');
    assert.equal((await get(`${base()}/${segUri.replace('.m4s', '.p99.m4s')}`)).status, 404);
  });

  void test('a blocking reload is held until the part exists, then answered at once', async () => {
    const pl = await get(`${base()}/source.m3u8`);
    const { msn, part } = nextPart(pl.text);
    const r = await get(`${base()}/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.ms < 3000, `held ${r.ms} ms`);
    const uris = tag(r.text, 'EXT-X-PART').map((p) => attr(p, 'URI'));
    const want = nextPart(pl.text).uri;
    assert.ok(uris.includes(want), `${want} in\n${r.text}`);
    assert.match(String(r.headers['cache-control']), /^public, max-age=\d+$/);
    // An answer that already holds the part comes at once.
    const again = await get(`${base()}/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`);
    assert.equal(again.status, 200);
    assert.ok(again.ms < 500, `${again.ms} ms`);
  });

  void test('the preload hint part is held until written, then served', async () => {
    const pl = await get(`${base()}/source.m3u8`);
    const { uri } = nextPart(pl.text);
    const r = await get(`${base()}/${uri}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.length > 100);
    assert.equal(r.body.toString('latin1', 4, 8) === 'moof' || r.body.includes('moof'), true);
  });

  void test('bad or far-future blocking parameters are 400, not a hang', async () => {
    const pl = await get(`${base()}/source.m3u8`);
    const { msn } = nextPart(pl.text);
    for (const q of [
      '_HLS_msn=abc',
      '_HLS_part=1',
      `_HLS_msn=${msn + 10}`,
      '_HLS_msn=-1',
      '_HLS_skip=maybe',
    ]) {
      const r = await get(`${base()}/source.m3u8?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.ok(r.ms < 1000, `${q} took ${r.ms} ms`);
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'bad_request');
    }
  });

  void test('ETag: an unchanged playlist or segment is 304; HEAD has the headers without a body', async () => {
    const pl = await get(`${base()}/source.m3u8`);
    const etag = String(pl.headers.etag);
    assert.match(etag, /^"[^"]+"$/);
    const same = await get(`${base()}/source.m3u8`, { headers: { 'If-None-Match': etag } });
    // The timeline may have moved on meanwhile (a new part every 0.5 s): 304 or a new version.
    assert.ok(
      same.status === 304 || (same.status === 200 && same.headers.etag !== etag),
      String(same.status),
    );
    const segUri = pl.text.split('\n').find((l) => l.endsWith('.m4s') && !l.startsWith('#'))!;
    const seg = await get(`${base()}/${segUri}`);
    const seg304 = await get(`${base()}/${segUri}`, {
      headers: { 'If-None-Match': String(seg.headers.etag) },
    });
    assert.equal(seg304.status, 304);
    assert.equal(seg304.body.length, 0);
    const head = await get(`${base()}/${segUri}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), seg.body.length);
    assert.equal(head.body.length, 0);
    const range = await get(`${base()}/${segUri}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal(range.status, 206);
    assert.ok(range.body.equals(seg.body.subarray(0, 100)));
  });

  void test('delta update: _HLS_skip=YES replaces the segments older than CAN-SKIP-UNTIL with EXT-X-SKIP', async () => {
    const r = await getWhen('a delta update', `${base()}/source.m3u8?_HLS_skip=YES`, '#EXT-X-SKIP', 30_000);
    const full = await get(`${base()}/source.m3u8`);
    const skipped = Number(attr(tag(r.text, 'EXT-X-SKIP')[0]!, 'SKIPPED-SEGMENTS'));
    assert.ok(skipped >= 1, r.text);
    const count = (t: string) => t.split('\n').filter((l) => l.startsWith('#EXTINF')).length;
    // The two may straddle a new segment.
    assert.ok(Math.abs(count(r.text) + skipped - count(full.text)) <= 1, `${r.text}\n---\n${full.text}`);
    assert.equal(tag(r.text, 'EXT-X-MEDIA-SEQUENCE')[0], tag(full.text, 'EXT-X-MEDIA-SEQUENCE')[0]);
  });
});

void describe('low-latency DASH', () => {
  void test('the MPD announces chunked segments and a latency target; the newest segment streams as it is written', async () => {
    const r = await getWhen('an MPD', `${base()}/manifest.mpd`, '<S ', 15_000);
    assert.match(r.text, /availabilityTimeOffset="1\.5"/);
    assert.match(r.text, /availabilityTimeComplete="false"/);
    assert.match(r.text, /<ServiceDescription id="0">\s*<Latency referenceId="0" target="2500"/);
    // The last S of the video timeline is the segment being written.
    const video = /<Representation id="source"[\s\S]*?<\/Representation>/.exec(r.text)?.[0] ?? '';
    const startNumber = Number(/startNumber="(\d+)"/.exec(video)?.[1]);
    const entries = [...video.matchAll(/<S t="\d+" d="\d+"(?: r="(\d+)")?\/>/g)];
    const listed = entries.reduce((n, m) => n + 1 + Number(m[1] ?? 0), 0);
    const newest = startNumber + listed - 1;
    const seg = await get(
      `${base()}/${/media="([^"]+)"/.exec(video)![1]!.replace('$Number%05d$', String(newest).padStart(5, '0'))}`,
    );
    assert.equal(seg.status, 200, seg.text);
    assert.equal(seg.headers['transfer-encoding'], 'chunked', JSON.stringify(seg.headers));
    assert.equal(seg.headers['content-length'], undefined);
    // Sent while FFmpeg wrote it: the first bytes came well before the end.
    assert.ok(seg.ms - seg.firstByteMs > 300, `first byte ${seg.firstByteMs} ms, end ${seg.ms} ms`);
    assert.equal(seg.body.toString('latin1', 4, 8), 'styp');
    // The same bytes as the complete file, once it is there.
    const again = await get(
      `${base()}/${/media="([^"]+)"/.exec(video)![1]!.replace('$Number%05d$', String(newest).padStart(5, '0'))}`,
    );
    assert.ok(again.body.equals(seg.body), 'the chunked response is the whole segment');
  });
});

void describe('the latency setting', () => {
  void test('standard: whole segments only, in the same playlists; invalid values are refused', async () => {
    const bad = await s.api('PATCH', `/api/v1/channels/${ch.id}`, { latency: 'ultra' });
    assert.ok(bad.status === 400 || bad.status === 422, bad.text);
    const std = await s.api<Channel>('PATCH', `/api/v1/channels/${ch.id}`, { latency: 'standard' });
    assert.equal(std.status, 200, std.text);
    assert.equal(std.json.latency, 'standard');
    const pl = await get(`${base()}/source.m3u8`);
    assert.match(pl.text, /^#EXT-X-VERSION:7$/m);
    assert.ok(!pl.text.includes('#EXT-X-PART'), pl.text);
    assert.ok(!pl.text.includes('CAN-BLOCK-RELOAD'), pl.text);
    // A blocking request is answered at once, as a plain reload.
    const plain = await get(`${base()}/source.m3u8?_HLS_msn=999999`);
    assert.equal(plain.status, 200);
    const mpd = await get(`${base()}/manifest.mpd`);
    assert.ok(!mpd.text.includes('availabilityTimeOffset'), mpd.text);
    const low = await s.api<Channel>('PATCH', `/api/v1/channels/${ch.id}`, { latency: 'low' });
    assert.equal(low.json.latency, 'low');
    assert.match((await get(`${base()}/source.m3u8`)).text, /#EXT-X-PART:/);
  });
});
