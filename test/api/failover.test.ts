/**
 * Redundant ingest against the real server: a primary and a backup publisher
 * (werift in child processes, FFmpeg test patterns) on one encode channel. The
 * primary crashes: the backup is on air within the detection time and the same
 * FFmpeg run goes on (no discontinuity, no gap in media sequence numbers). Both
 * gone: the slate. One back: live again. Manual switch, automatic failback, and
 * the refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ChannelEvent } from '../../lib/events.ts';
import type { Channel } from '../../lib/schemas.ts';
import type { ChannelStats } from '../../lib/stats.ts';
import { assertError, startServer, type TestServer } from '../helpers/server.ts';
import { parseMediaPlaylist, type MediaPlaylist } from '../helpers/playlists.ts';
import { createChannel, publishTo, startChannel } from '../helpers/live-channel.ts';
import { ffmpegChildren, waitFor } from '../helpers/procs.ts';
import { weriftOffer } from '../helpers/sdp-offers.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

const run = promisify(execFile);
const SEGMENT = 2;
const FAILOVER_MS = 1000;
const SLATE_MS = 2000;
let s: TestServer;
let ch: Channel;
const publishers: WhipPublisher[] = [];
const tmp = mkdtempSync(path.join(tmpdir(), 'onair-failover-'));

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_LIVE_WINDOW_SEGMENTS: '10' } });
  const c = await createChannel(s, { name: 'redundant', ladder: '480p' });
  assert.equal(c.failoverAfterMs, FAILOVER_MS);
  assert.equal(c.slateAfterMs, SLATE_MS);
  assert.equal(c.failback, 'manual');
  assert.match(c.urls.whipBackup, new RegExp(`/whip/${c.id}/backup$`));
  await startChannel(s, c.id);
  ch = c;
});

after(async () => {
  for (const p of publishers) await p.vanish().catch(() => undefined);
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function publish(role: 'primary' | 'backup'): Promise<WhipPublisher> {
  return publishTo(s, ch, { backup: role === 'backup', gop: 20, track: publishers });
}

async function stats(): Promise<ChannelStats> {
  return (await s.api<ChannelStats>('GET', `/api/v1/channels/${ch.id}/stats`)).json;
}

async function onAir(which: 'primary' | 'backup' | 'slate', timeoutMs = 15_000): Promise<ChannelStats> {
  return waitFor(
    `${which} on air`,
    async () => {
      const st = await stats();
      return st.inputs?.active === which ? st : undefined;
    },
    timeoutMs,
    100,
  );
}

async function events(): Promise<ChannelEvent[]> {
  const r = await s.api<{ items: ChannelEvent[] }>('GET', `/api/v1/channels/${ch.id}/events?limit=200`);
  return r.json.items.slice().reverse();
}

async function playlist(): Promise<MediaPlaylist & { text: string }> {
  const r = await s.request('GET', `/live/${ch.id}/480p.m3u8`, { auth: false });
  assert.equal(r.status, 200, r.text);
  return { text: r.text, ...parseMediaPlaylist(r.text) };
}

/** The media sequence numbers of every segment listed, in order. */
function sequence(p: MediaPlaylist): number[] {
  return p.segments.map((_, i) => p.mediaSequence + i);
}

async function segmentsAfter(count: number, timeoutMs = 20_000): Promise<MediaPlaylist & { text: string }> {
  const start = await waitFor(
    'the playlist',
    async () =>
      (await s.request('GET', `/live/${ch.id}/480p.m3u8`, { auth: false })).status === 200
        ? playlist()
        : undefined,
    timeoutMs,
    250,
  );
  const target = start.mediaSequence + start.segments.length + count;
  return waitFor(
    `${count} more segments`,
    async () => {
      const p = await playlist();
      return p.mediaSequence + p.segments.length >= target ? p : undefined;
    },
    timeoutMs,
    250,
  );
}

/** The channel's encoder (not its thumbnailer or slate): the FFmpeg that reads an input.sdp. */
function channelFfmpegPids(): number[] {
  return ffmpegChildren(s.pid!)
    .filter((p) => p.cmdline.some((a) => a.includes(ch.id) && a.endsWith('input.sdp')))
    .map((p) => p.pid);
}

/** Frame times of the 480p rendition across the given segments (init + media, decoded by ffprobe). */
async function framePts(p: MediaPlaylist): Promise<number[]> {
  const parts: Buffer[] = [];
  const map = p.segments[0]!.map;
  const get = async (uri: string) => {
    const r = await fetch(`${s.url}/live/${ch.id}/${uri}`);
    assert.equal(r.status, 200);
    return Buffer.from(await r.arrayBuffer());
  };
  parts.push(await get(map));
  for (const seg of p.segments) {
    if (seg.map !== map) break;
    parts.push(await get(seg.uri));
  }
  const file = path.join(tmp, `frames-${Date.now()}.mp4`);
  writeFileSync(file, Buffer.concat(parts));
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
}

void describe('redundant ingest', () => {
  let primary: WhipPublisher;
  let backup: WhipPublisher;

  void test('a backup alone is on air; the primary joining does not take over (manual failback)', async () => {
    backup = await publish('backup');
    await onAir('backup');
    await segmentsAfter(2);
    primary = await publish('primary');
    await waitFor(
      'the primary healthy',
      async () => ((await stats()).inputs?.primary?.healthy ? true : undefined),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const st = await stats();
    assert.equal(st.inputs?.active, 'backup', 'manual failback: the backup stays on air');
    assert.equal(st.inputs?.backup?.onAir, true);
    assert.equal(st.inputs?.primary?.onAir, false);
    assert.equal(st.live, true);
  });

  void test('refusals: a second backup (409), a switch to an unknown input (422)', async () => {
    const offer = await weriftOffer();
    try {
      const second = await s.request('POST', `/whip/${ch.id}/backup`, {
        auth: false,
        body: offer.sdp,
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${ch.streamKey}` },
      });
      assertError(second, 409, 'publisher_exists', /backup/);
    } finally {
      await offer.close();
    }
    assertError(
      await s.api('POST', `/api/v1/channels/${ch.id}/ingest/switch`, { to: 'sideways' }),
      422,
      'validation_failed',
    );
  });

  void test('a manual switch puts the primary on air; the FFmpeg run goes on', async () => {
    const pids = channelFfmpegPids();
    assert.equal(pids.length, 1);
    const r = await s.api<{ active: string }>('POST', `/api/v1/channels/${ch.id}/ingest/switch`, {
      to: 'primary',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.active, 'primary');
    await onAir('primary');
    assert.deepEqual(channelFfmpegPids(), pids, 'the same encoder run');
    assert.ok((await events()).some((e) => e.type === 'input.restored'));
  });

  void test('the primary crashes: the backup is on air within the detection time, seamlessly', async () => {
    const pids = channelFfmpegPids();
    const before = await playlist();
    const t0 = Date.now();
    await primary.vanish();
    const st = await onAir('backup', FAILOVER_MS + SEGMENT * 1000 + 2000);
    const took = Date.now() - t0;
    console.log(`  · backup on air ${took} ms after the primary's crash`);
    assert.equal(st.inputs?.switches !== undefined && st.inputs.switches >= 2, true);
    const sw = st.inputs?.lastSwitch;
    assert.equal(sw?.from, 'primary');
    assert.equal(sw?.to, 'backup');
    assert.ok(sw.gapMs !== null && sw.gapMs >= FAILOVER_MS && sw.gapMs < took + 500, `gap ${sw.gapMs} ms`);
    const after = await segmentsAfter(3);
    assert.deepEqual(
      channelFfmpegPids(),
      pids,
      `no new FFmpeg run: ${(await events()).map((e) => `${e.type}: ${e.message}`).join('\n')}`,
    );
    assert.equal(after.discontinuities, before.discontinuities, 'no EXT-X-DISCONTINUITY added');
    const seqs = sequence(after);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1);
    const failover = (await events()).filter((e) => e.type === 'input.failover').at(-1);
    assert.match(failover?.message ?? '', /backup is on air instead of primary \(no media from primary/);
    // The largest jump between consecutive frames: the detection time, about a frame more.
    const pts = await framePts(after);
    let gap = 0;
    for (let i = 1; i < pts.length; i++) gap = Math.max(gap, pts[i]! - pts[i - 1]!);
    console.log(`  · largest gap between frames across the switch: ${(gap * 1000).toFixed(0)} ms`);
    assert.ok(gap <= FAILOVER_MS / 1000 + 0.5, `a gap of ${gap} s`);
  });

  void test('both inputs gone: the slate, in the same run; a publisher back: live again', async () => {
    const pids = channelFfmpegPids();
    const before = await playlist();
    const t0 = Date.now();
    await backup.vanish();
    const slated = await onAir('slate', SLATE_MS + SEGMENT * 1000 + 3000);
    console.log(`  · slate on air ${Date.now() - t0} ms after the last input's crash`);
    const gap = slated.inputs?.lastSwitch?.gapMs ?? 0;
    assert.ok(gap >= SLATE_MS && gap < SLATE_MS + 1000, `slate ${gap} ms after the last media`);
    const onSlate = await segmentsAfter(2);
    assert.equal(onSlate.discontinuities, before.discontinuities, 'the slate is part of the same output');
    assert.deepEqual(channelFfmpegPids(), pids);
    // The slate is a dark card; the test pattern is bright.
    const last = onSlate.segments.at(-1)!;
    const file = path.join(tmp, 'slate.mp4');
    const parts = await Promise.all(
      [last.map, last.uri].map(async (u) =>
        Buffer.from(await (await fetch(`${s.url}/live/${ch.id}/${u}`)).arrayBuffer()),
      ),
    );
    writeFileSync(file, Buffer.concat(parts));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `movie=${file},signalstats`,
      '-show_entries',
      'frame_tags=lavfi.signalstats.YAVG',
      '-of',
      'csv=p=0',
      '-read_intervals',
      '%+#1',
    ]);
    const luma = Number(stdout.trim().split('\n')[0]);
    assert.ok(luma < 60, `the slate is dark (average luma ${luma})`);
    assert.ok((await events()).some((e) => e.type === 'slate.on'));

    const t1 = Date.now();
    primary = await publish('primary');
    await onAir('primary', SEGMENT * 2000 + 5000);
    console.log(`  · live again ${Date.now() - t1} ms after the publisher's POST`);
    const back = await segmentsAfter(2);
    assert.equal(back.discontinuities, before.discontinuities);
    assert.deepEqual(channelFfmpegPids(), pids);
    const types = (await events()).map((e) => e.type);
    assert.ok(types.includes('slate.off'));
    const st = await stats();
    assert.ok((st.inputs?.slateSeconds ?? 0) > 0);
  });

  void test('automatic failback: the primary back and healthy goes on air by itself', async () => {
    assert.equal((await s.api('PATCH', `/api/v1/channels/${ch.id}`, { failback: 'auto' })).status, 200);
    backup = await publish('backup');
    await waitFor(
      'the backup healthy',
      async () => ((await stats()).inputs?.backup?.healthy ? true : undefined),
      10_000,
    );
    await primary.vanish();
    await onAir('backup', 8000);
    primary = await publish('primary');
    await onAir('primary', 10_000);
    const restored = (await events()).filter((e) => e.type === 'input.restored').at(-1);
    assert.match(restored?.message ?? '', /automatic failback/);
  });

  void test('/metrics names the input on air', async () => {
    const m = await s.request('GET', '/metrics', { auth: false });
    assert.match(m.text, new RegExp(`onair_input_active\\{channel="${ch.id}",input="primary"\\} 1`));
    assert.match(m.text, new RegExp(`onair_input_switches_total\\{channel="${ch.id}"\\} \\d+`));
  });
});
