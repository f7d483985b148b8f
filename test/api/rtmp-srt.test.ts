/**
 * RTMP and SRT ingest against the real server, with FFmpeg as the encoder: an
 * encode channel fed OBS-style (server URL + stream key), refusals at publish,
 * a publisher killed and back, SRT into a passthrough channel, a multi-bitrate
 * encoder into a passthrough-abr channel (no encoding process), and nothing
 * left running after stop, delete and shutdown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ChannelEvent } from '../../lib/events.ts';
import type { Channel } from '../../lib/schemas.ts';
import type { ChannelStats } from '../../lib/stats.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { createChannel as createChannelIn } from '../helpers/live-channel.ts';
import { pushRtmp, pushRtmpRenditions, pushSrt, type Push } from '../helpers/ffmpeg-push.ts';
import { parseMediaPlaylist } from '../helpers/playlists.ts';
import {
  allProcesses,
  channelChildren,
  childrenOf,
  freeTcpPort,
  isAlive,
  isIngestRemuxer,
  waitFor,
} from '../helpers/procs.ts';

const run = promisify(execFile);

let s: TestServer;
let serverPid: number;
let rtmpPort: number;
const pushes: Push[] = [];
/** Every ingest child (remuxer, SRT listener) seen during the tests: none may outlive the server. */
const ingestPids = new Set<number>();

before(async () => {
  rtmpPort = await freeTcpPort();
  const srtBase = 20000 + Math.floor(Math.random() * 20000) * 2;
  s = await startServer({
    env: {
      ONAIR_RTMP_PORT: String(rtmpPort),
      ONAIR_SRT_PORT_MIN: String(srtBase),
      ONAIR_SRT_PORT_MAX: String(srtBase + 19),
      ONAIR_LIVE_WINDOW_SEGMENTS: '10',
      // Refusals are tested on purpose: give them room.
      ONAIR_AUTH_FAILURE_LIMIT: '50',
    },
  });
  serverPid = s.pid!;
});

after(async () => {
  for (const p of pushes) await p.kill();
  if (s?.stderr.trim()) console.error(`server stderr:\n${s.stderr.slice(-4000)}`);
  await s?.dispose();
});

function push(p: Push): Push {
  pushes.push(p);
  return p;
}

/** Notes the server's ingest children now (remuxers, SRT listeners). */
function noteIngestChildren(): void {
  for (const p of childrenOf(serverPid)) {
    if (isIngestRemuxer(p) || p.comm.startsWith('srt-live')) ingestPids.add(p.pid);
  }
}

const createChannel = (body: Record<string, unknown>): Promise<Channel> => createChannelIn(s, body);

async function start(id: string): Promise<void> {
  assert.equal((await s.api('POST', `/api/v1/channels/${id}/start`)).status, 200);
}

async function stats(id: string): Promise<ChannelStats> {
  return (await s.api<ChannelStats>('GET', `/api/v1/channels/${id}/stats`)).json;
}

async function events(id: string): Promise<ChannelEvent[]> {
  return (await s.api<{ items: ChannelEvent[] }>('GET', `/api/v1/channels/${id}/events?limit=200`)).json
    .items;
}

async function master(id: string, renditions: number): Promise<string> {
  return waitFor(
    `a master playlist with ${renditions} renditions`,
    async () => {
      const r = await s.request('GET', `/live/${id}/master.m3u8`, { auth: false });
      return r.status === 200 && (r.text.match(/#EXT-X-STREAM-INF/g) ?? []).length === renditions && r.text;
    },
    30_000,
  );
}

async function mediaPlaylist(id: string, track: string) {
  const r = await s.request('GET', `/live/${id}/${track}.m3u8`, { auth: false });
  return r.status === 200 ? parseMediaPlaylist(r.text) : undefined;
}

async function ffprobeStreams(
  url: string,
): Promise<{ codec_type: string; width?: number; height?: number }[]> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', url],
    { timeout: 30_000 },
  );
  return (JSON.parse(stdout) as { streams: { codec_type: string; width?: number; height?: number }[] })
    .streams;
}

/** FFmpeg processes of the server that encode video (libx264). */
function encoders(): number {
  return childrenOf(serverPid).filter((p) => p.comm === 'ffmpeg' && p.cmdline.includes('libx264')).length;
}

function rtmpUrl(c: Channel, suffix = ''): string {
  assert.ok(c.urls.rtmp, 'the channel shows an RTMP URL');
  return `${c.urls.rtmp}/${c.streamKey}${suffix}`;
}

describe('RTMP into an encode channel', () => {
  let c: Channel;
  let encoder: Push;

  test('the channel shows the RTMP server and the SRT URL', async () => {
    // No slate: a publisher that leaves is dropped and comes back after a discontinuity.
    c = await createChannel({ name: 'rtmp encode', slateAfterMs: 0 });
    assert.equal(c.urls.rtmp, `rtmp://127.0.0.1:${rtmpPort}/live`);
    assert.ok(c.srtPort !== null);
    assert.equal(c.srtLatencyMs, 120);
    assert.match(
      c.urls.srt ?? '',
      new RegExp(`^srt://127\\.0\\.0\\.1:${c.srtPort}\\?.*passphrase=${c.streamKey}`),
    );
  });

  test('a stopped channel refuses the publisher at publish, with a status the encoder shows', async () => {
    const p = push(pushRtmp(rtmpUrl(c), { seconds: 5 }));
    assert.notEqual(await p.exited, 0);
    assert.match(p.stderr, /Server error: the channel is not running/);
  });

  test('a wrong stream key is refused and nothing is left running', async () => {
    await start(c.id);
    const p = push(pushRtmp(`${c.urls.rtmp!}/sk_wrong-key`, { seconds: 5 }));
    assert.notEqual(await p.exited, 0);
    assert.match(p.stderr, /Server error: wrong stream key/);
    assert.equal(childrenOf(serverPid).filter(isIngestRemuxer).length, 0);
  });

  test('server URL + stream key publish; the ladder plays as HLS and DASH (ffprobe)', async () => {
    encoder = push(pushRtmp(rtmpUrl(c)));
    const text = await master(c.id, 3);
    assert.match(text, /RESOLUTION=1280x720/);
    assert.match(text, /mp4a/, 'AAC from the RTMP publisher is in the output');
    noteIngestChildren();
    const hls = await ffprobeStreams(`${s.url}/live/${c.id}/master.m3u8`);
    assert.deepEqual(
      hls.filter((x) => x.codec_type === 'video').map((x) => x.height),
      [720, 480, 360],
    );
    assert.equal(hls.filter((x) => x.codec_type === 'audio').length, 1);
    const dash = await ffprobeStreams(`${s.url}/live/${c.id}/manifest.mpd`);
    assert.equal(dash.filter((x) => x.codec_type === 'video').length, 3);
    const st = await stats(c.id);
    assert.equal(st.ingest?.source, 'rtmp');
    assert.equal(st.ingest?.videoCodec, 'H264');
    assert.equal(st.ingest?.audioCodec, 'OPUS');
    assert.equal(st.ingest?.width, 1280);
    assert.equal(st.ingest?.height, 720);
    assert.equal(st.ingest?.keyframeIntervalMs, 2000);
    assert.ok((st.ingest?.kbps ?? 0) > 500, `kbps ${st.ingest?.kbps}`);
    assert.ok(st.ingest?.connectedSince);
    const metrics = await s.request('GET', '/metrics', { auth: false });
    assert.match(metrics.text, new RegExp(`onair_ingest_bitrate_bits\\{channel="${c.id}"\\} [1-9]`));
  });

  test('a second publisher is refused (the stream is already published)', async () => {
    const p = push(pushRtmp(rtmpUrl(c), { seconds: 5 }));
    assert.notEqual(await p.exited, 0);
    assert.match(p.stderr, /Server error: channel already has a live primary publisher/);
    assert.equal((await stats(c.id)).ingest?.state, 'live', 'the first publisher is untouched');
  });

  test('a publisher killed mid-stream and started again continues the same playlists', async () => {
    const before = await mediaPlaylist(c.id, '360p');
    assert.ok(before && before.segments.length > 0);
    await encoder.kill();
    await waitFor('the publisher to be dropped', async () => !(await stats(c.id)).live, 15_000);
    encoder = push(pushRtmp(rtmpUrl(c)));
    const after = await waitFor(
      'segments after a discontinuity',
      async () => {
        const p = await mediaPlaylist(c.id, '360p');
        return p && p.discontinuities >= 1 && p.segments.length >= before.segments.length + 2 && p;
      },
      40_000,
    );
    assert.equal(after.segments[0]!.uri, before.segments[0]!.uri, 'the same playlist goes on');
    const types = (await events(c.id)).map((e) => e.type);
    assert.ok(types.filter((t) => t === 'publisher.connected').length >= 2);
    assert.ok(types.includes('publisher.disconnected'));
  });

  test('stopping the channel ends the publisher, its remuxer and the encoder', async () => {
    noteIngestChildren();
    assert.equal((await s.api('POST', `/api/v1/channels/${c.id}/stop`)).status, 200);
    await waitFor(
      'no FFmpeg left',
      () => childrenOf(serverPid).filter((p) => p.comm === 'ffmpeg').length === 0,
      15_000,
    );
    assert.equal(channelChildren(serverPid).length, 0, 'nothing left: no remuxer, no SRT listener');
    assert.notEqual(await encoder.exited, 0, 'the encoder was disconnected');
  });
});

/** The server's FFmpeg processes that encode video (libx264). */
function encoderPids(): number[] {
  return childrenOf(serverPid)
    .filter((p) => p.comm === 'ffmpeg' && p.cmdline.includes('libx264'))
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

describe('RTMP primary and backup inputs', () => {
  let c: Channel;
  let primary: Push;
  let backup: Push;

  test('the channel shows the backup server and SRT URL; both encoders publish, the primary is on air', async () => {
    c = await createChannel({ name: 'rtmp failover', failoverAfterMs: 1000 });
    assert.equal(c.urls.rtmpBackup, `rtmp://127.0.0.1:${rtmpPort}/live-backup`);
    assert.ok(c.srtBackupPort !== null && c.srtBackupPort !== c.srtPort);
    assert.match(c.urls.srtBackup ?? '', new RegExp(`^srt://127\\.0\\.0\\.1:${c.srtBackupPort}\\?`));
    await start(c.id);
    primary = push(pushRtmp(rtmpUrl(c)));
    await master(c.id, 3);
    // The first input to send a keyframe goes on air: the backup joins once the primary is.
    backup = push(pushRtmp(`${c.urls.rtmpBackup}/${c.streamKey}`));
    const st = await waitFor(
      'both inputs healthy',
      async () => {
        const x = await stats(c.id);
        return x.inputs?.primary?.healthy && x.inputs.backup?.healthy && x;
      },
      20_000,
    );
    assert.equal(st.inputs?.active, 'primary');
    assert.equal(st.inputs?.primary?.source, 'rtmp');
    assert.equal(st.inputs?.backup?.source, 'rtmp');
    assert.equal(st.inputs?.backup?.onAir, false);
  });

  test('a second backup encoder is refused', async () => {
    const p = push(pushRtmp(`${c.urls.rtmpBackup!}/${c.streamKey}`, { seconds: 4 }));
    assert.notEqual(await p.exited, 0);
    assert.match(p.stderr, /Server error: channel already has a live backup publisher/);
  });

  test('the primary encoder stalls (connected, sending nothing): the backup goes on air; a switch brings the primary back', async () => {
    const t0 = Date.now();
    process.kill(primary.pid, 'SIGSTOP');
    try {
      await waitFor(
        'the backup on air',
        async () => (await stats(c.id)).inputs?.active === 'backup',
        10_000,
        50,
      );
      console.log(`  · RTMP backup on air ${Date.now() - t0} ms after the primary encoder stalled`);
      const failover = (await events(c.id)).filter((e) => e.type === 'input.failover').at(-1);
      assert.match(failover?.message ?? '', /backup is on air instead of primary \(no media from primary/);
    } finally {
      process.kill(primary.pid, 'SIGCONT');
    }
    await waitFor(
      'the primary healthy again',
      async () => (await stats(c.id)).inputs?.primary?.healthy === true,
      15_000,
    );
    const r = await s.api<{ active: string }>('POST', `/api/v1/channels/${c.id}/ingest/switch`, {
      to: 'primary',
    });
    assert.equal(r.status, 200, r.text);
    await waitFor('the primary on air', async () => (await stats(c.id)).inputs?.active === 'primary', 10_000);
  });

  test('the primary encoder is killed: the backup is on air and the same encoder run goes on', async () => {
    const pids = encoderPids();
    assert.equal(pids.length, 1);
    const before = (await mediaPlaylist(c.id, '360p'))!;
    const t0 = Date.now();
    await primary.kill();
    await waitFor(
      'the backup on air',
      async () => (await stats(c.id)).inputs?.active === 'backup',
      10_000,
      50,
    );
    console.log(`  · RTMP backup on air ${Date.now() - t0} ms after the primary encoder was killed`);
    const failover = (await events(c.id)).filter((e) => e.type === 'input.failover').at(-1);
    assert.match(failover?.message ?? '', /backup is on air instead of primary/);
    const target = before.mediaSequence + before.segments.length + 3;
    const after = await waitFor(
      'segments after the switch',
      async () => {
        const p = await mediaPlaylist(c.id, '360p');
        return p && p.mediaSequence + p.segments.length >= target && p;
      },
      30_000,
    );
    assert.equal(after.discontinuities, before.discontinuities, 'no discontinuity: the output goes on');
    assert.deepEqual(encoderPids(), pids, 'the same encoder run');
    const st = await stats(c.id);
    assert.equal(st.live, true);
    assert.equal(st.inputs?.primary, null);
  });

  test('the primary encoder back: it is the standby (manual failback); stop leaves nothing', async () => {
    primary = push(pushRtmp(rtmpUrl(c)));
    await waitFor(
      'the primary healthy again',
      async () => (await stats(c.id)).inputs?.primary?.healthy === true,
      20_000,
    );
    assert.equal((await stats(c.id)).inputs?.active, 'backup');
    noteIngestChildren();
    assert.equal((await s.api('POST', `/api/v1/channels/${c.id}/stop`)).status, 200);
    await waitFor('no children', () => channelChildren(serverPid).length === 0, 15_000);
    assert.notEqual(await primary.exited, 0);
    assert.notEqual(await backup.exited, 0);
  });
});

describe('SRT into a passthrough channel', () => {
  let c: Channel;
  let caller: Push;

  test('a wrong passphrase is refused at connect; the listener stays', async () => {
    c = await createChannel({ name: 'srt', mode: 'passthrough', srtLatencyMs: 200 });
    await start(c.id);
    await waitFor(
      'the SRT listener',
      () => childrenOf(serverPid).some((p) => p.comm.startsWith('srt-live')),
      5000,
    );
    noteIngestChildren();
    const url = new URL(c.urls.srt!.replace('srt://', 'http://'));
    assert.equal(url.searchParams.get('latency'), '200000');
    const p = push(pushSrt(`srt://127.0.0.1:${c.srtPort}?passphrase=wrong-passphrase-123`, { seconds: 4 }));
    assert.notEqual(await p.exited, 0);
    assert.equal((await stats(c.id)).live, false);
  });

  test('the URL the channel shows publishes; the publisher’s H.264 is packaged as is', async () => {
    caller = push(pushSrt(c.urls.srt!));
    const text = await master(c.id, 1);
    assert.match(text, /source\.m3u8/);
    assert.match(text, /RESOLUTION=1280x720/);
    noteIngestChildren();
    const st = await stats(c.id);
    assert.equal(st.ingest?.source, 'srt');
    assert.equal(st.encoder?.mode, 'passthrough');
    assert.equal(encoders(), 0, 'passthrough encodes no video');
    await waitFor(
      'SRT transport figures',
      async () => (await stats(c.id)).ingest?.packetsRetransmitted !== null,
      10_000,
    );
    const hls = await ffprobeStreams(`${s.url}/live/${c.id}/master.m3u8`);
    assert.deepEqual(hls.map((x) => x.codec_type).sort(), ['audio', 'video']);
  });

  test('a second caller is refused while one is in', async () => {
    const p = push(pushSrt(c.urls.srt!, { seconds: 4 }));
    assert.notEqual(await p.exited, 0);
    assert.equal((await stats(c.id)).ingest?.state, 'live');
  });

  test('the backup URL takes a caller as the backup input', async () => {
    assert.ok(c.urls.srtBackup);
    const b = push(pushSrt(c.urls.srtBackup));
    await waitFor(
      'a healthy SRT backup',
      async () => {
        const x = await stats(c.id);
        return x.inputs?.backup?.healthy === true && x.inputs.backup.source === 'srt';
      },
      20_000,
    );
    assert.equal((await stats(c.id)).inputs?.active, 'primary');
    await b.kill();
    await waitFor('the backup gone', async () => (await stats(c.id)).inputs?.backup === null, 15_000);
  });

  test('a caller that leaves is dropped; the next one continues the playlist', async () => {
    await caller.kill();
    await waitFor('the caller to be dropped', async () => !(await stats(c.id)).live, 15_000);
    caller = push(pushSrt(c.urls.srt!));
    await waitFor(
      'a discontinuity in the playlist',
      async () => ((await mediaPlaylist(c.id, 'source'))?.discontinuities ?? 0) >= 1,
      30_000,
    );
  });

  test('reset rotates the key: the old URL no longer connects, the new one does', async () => {
    const old = c.urls.srt!;
    const reset = await s.api<Channel>('POST', `/api/v1/channels/${c.id}/reset`);
    assert.equal(reset.status, 200);
    assert.notEqual(await caller.exited, null);
    await waitFor(
      'the SRT listener again',
      () => childrenOf(serverPid).some((p) => p.comm.startsWith('srt-live')),
      5000,
    );
    const p = push(pushSrt(old, { seconds: 3 }));
    assert.notEqual(await p.exited, 0);
    const fresh = (await s.api<Channel>('GET', `/api/v1/channels/${c.id}`)).json;
    assert.notEqual(fresh.urls.srt, old);
  });

  test('stop and delete leave nothing running', async () => {
    noteIngestChildren();
    assert.equal((await s.api('POST', `/api/v1/channels/${c.id}/stop`)).status, 200);
    assert.equal((await s.api('DELETE', `/api/v1/channels/${c.id}`)).status, 204);
    await waitFor('no children', () => channelChildren(serverPid).length === 0, 10_000);
  });
});

describe('a multi-bitrate encoder into a passthrough-abr channel', () => {
  let c: Channel;
  let encoder: Push;
  const renditions = [
    { name: '720p', width: 1280, height: 720, kbps: 2500 },
    { name: '480p', width: 854, height: 480, kbps: 1200 },
    { name: '360p', width: 640, height: 360, kbps: 700 },
  ];

  test('three RTMP pushes become a three-rendition ladder with no encoding process', async () => {
    c = await createChannel({ name: 'abr', mode: 'passthrough-abr' });
    await start(c.id);
    encoder = push(pushRtmpRenditions(rtmpUrl(c), renditions));
    const text = await master(c.id, 3);
    for (const r of renditions)
      assert.match(text, new RegExp(`RESOLUTION=${r.width}x${r.height}[^\\n]*\\n${r.name}\\.m3u8`));
    noteIngestChildren();
    assert.equal(encoders(), 0, 'no FFmpeg of the server encodes video');
    const ffmpegs = childrenOf(serverPid).filter((p) => p.comm === 'ffmpeg');
    assert.equal(ffmpegs.filter(isIngestRemuxer).length, 3, 'one remuxer per rendition');
    const hls = await ffprobeStreams(`${s.url}/live/${c.id}/master.m3u8`);
    assert.deepEqual(
      hls.filter((x) => x.codec_type === 'video').map((x) => x.height),
      [720, 480, 360],
    );
    const dash = await ffprobeStreams(`${s.url}/live/${c.id}/manifest.mpd`);
    assert.equal(dash.filter((x) => x.codec_type === 'video').length, 3);
    const st = await stats(c.id);
    assert.deepEqual(
      st.ingest?.renditions.map((r) => r.name),
      ['720p', '480p', '360p'],
    );
    assert.deepEqual(st.encoder?.renditions, ['720p', '480p', '360p']);
    assert.deepEqual(st.ingest?.warnings, [], 'aligned keyframes raise no warning');
    // Segments of every rendition cut at the same keyframes: the same durations.
    // The renditions' playlists advance independently: wait until each lists three segments.
    const durations = await waitFor(
      'three segments in every rendition',
      async () => {
        const d = await Promise.all(
          renditions.map(async (r) =>
            ((await mediaPlaylist(c.id, r.name))?.segments ?? []).slice(0, 3).map((x) => x.duration),
          ),
        );
        return d.every((x) => x.length === 3) && d;
      },
      20_000,
    );
    assert.deepEqual(durations[1], durations[0]);
    assert.deepEqual(durations[2], durations[0]);
  });

  test('a rendition name that is already publishing is refused', async () => {
    const p = push(pushRtmp(rtmpUrl(c, '/480p'), { seconds: 4, width: 854, height: 480, audio: false }));
    assert.notEqual(await p.exited, 0);
    assert.match(p.stderr, /Server error: rendition 480p is already being published/);
  });

  test('renditions with other keyframe intervals are reported as a channel event and a warning', async () => {
    await encoder.kill();
    await waitFor('the renditions to be dropped', async () => !(await stats(c.id)).live, 15_000);
    const a = push(pushRtmp(rtmpUrl(c, '/hi'), { width: 640, height: 360, gopSeconds: 2, audio: false }));
    const b = push(pushRtmp(rtmpUrl(c, '/lo'), { width: 320, height: 180, gopSeconds: 3, audio: false }));
    await waitFor(
      'a keyframes_misaligned event',
      async () => (await events(c.id)).some((e) => e.type === 'publisher.keyframes_misaligned'),
      30_000,
    );
    assert.ok((await stats(c.id)).ingest?.warnings.some((w) => /not aligned/.test(w)));
    await a.kill();
    await b.kill();
  });

  test('stopping the channel and shutting the server down leave no process behind', async () => {
    assert.equal((await s.api('POST', `/api/v1/channels/${c.id}/stop`)).status, 200);
    await waitFor('no children', () => channelChildren(serverPid).length === 0, 10_000);
    // A running channel with a live publisher when the server stops.
    const d = await createChannel({ name: 'shutdown' });
    await start(d.id);
    const p = push(pushRtmp(rtmpUrl(d)));
    await master(d.id, 3);
    noteIngestChildren();
    await s.stop();
    assert.ok(ingestPids.size >= 6, `saw ${ingestPids.size} ingest processes`);
    await waitFor('every ingest process gone', () => [...ingestPids].every((pid) => !isAlive(pid)), 10_000);
    const strays = allProcesses().filter((x) => x.comm.startsWith('srt-live') && x.ppid === 1);
    assert.deepEqual(strays, []);
    assert.notEqual(await p.exited, null);
  });
});

describe('after a crash', () => {
  test('the SRT listeners a killed server left behind are ended by the next start, which listens again', async () => {
    const base = 20000 + Math.floor(Math.random() * 20000) * 2;
    const crashed = await startServer({
      env: { ONAIR_SRT_PORT_MIN: String(base), ONAIR_SRT_PORT_MAX: String(base + 1) },
    });
    try {
      const c = (await crashed.api<Channel>('POST', '/api/v1/channels', { name: 'crash' })).json;
      assert.equal((await crashed.api('POST', `/api/v1/channels/${c.id}/start`)).status, 200);
      const listeners = (pid: number) => childrenOf(pid).filter((p) => p.comm.startsWith('srt-live'));
      const before = await waitFor(
        'two SRT listeners',
        () => {
          const l = listeners(crashed.pid!);
          return l.length === 2 && l;
        },
        5000,
      );
      await crashed.kill();
      assert.ok(
        before.every((p) => isAlive(p.pid)),
        'a listener outlives a server killed with SIGKILL',
      );
      await crashed.start();
      await waitFor('the orphans gone', () => before.every((p) => !isAlive(p.pid)), 5000);
      await waitFor('two new SRT listeners', () => listeners(crashed.pid!).length === 2, 5000);
      const p = push(pushSrt(c.urls.srt!));
      await waitFor(
        'the channel live over SRT',
        async () => {
          const st = (await crashed.api<ChannelStats>('GET', `/api/v1/channels/${c.id}/stats`)).json;
          return st.ingest?.source === 'srt' && st.live;
        },
        20_000,
      );
      await p.kill();
    } finally {
      await crashed.dispose();
    }
  });
});
