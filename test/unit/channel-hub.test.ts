/**
 * The channel hub driven with a fake source, a fake router (its plain-RTP
 * consumers) and a fake encoder: the wiring alone, no sockets, no FFmpeg.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import type { ChannelConfig } from '../../server/core/runtime.ts';
import { ChannelHub } from '../../server/live/channel-hub.ts';
import { createLogger } from '../../server/log.ts';
import type { OfferSummary } from '../../server/media/sdp.ts';
import { LiveOutput, type OutputRun } from '../../server/packager/live-output.ts';
import type { FakeViewer } from '../helpers/fake-media.ts';
import { FakeEncoder, FakeRouter, FakeSource, VP8, channelConfig } from '../helpers/fake-media.ts';
import { inspectViewerOffer } from '../../server/media/sdp.ts';
import { handOffer } from '../helpers/sdp-offers.ts';

const log = createLogger('silent');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

class SpyOutput extends LiveOutput {
  readonly runs: OutputRun[] = [];
  readonly endedRuns: string[] = [];
  override beginRun(run: OutputRun): void {
    this.runs.push(run);
    super.beginRun(run);
  }
  override async endRun(runId: string): Promise<void> {
    this.endedRuns.push(runId);
    await super.endRun(runId);
  }
}

const SUMMARY = { videoCodec: 'H264', audio: {} } as unknown as OfferSummary;
const SUMMARY_NO_AUDIO = { videoCodec: 'H264', audio: undefined } as unknown as OfferSummary;

function setup(
  over: Partial<ChannelConfig> = {},
  viewers: { maxViewers?: number; viewerWaitMs?: number } = {},
) {
  const config = channelConfig(over);
  const dir = mkdtempSync(path.join(tmpdir(), 'onair-hub-'));
  dirs.push(dir);
  const router = new FakeRouter(config.id);
  const events: { type: ChannelEventType; message: string }[] = [];
  let encoder!: FakeEncoder;
  const output = new SpyOutput({
    liveDir: path.join(dir, 'live'),
    liveWindowSegments: 6,
    segmentSeconds: config.segmentSeconds,
    log,
  });
  const hub = new ChannelHub({
    config,
    router,
    createEncoder: (hooks) => (encoder = new FakeEncoder(hooks)),
    output,
    log,
    event: (type, message) => events.push({ type, message }),
    sampleEveryMs: 0,
    ...viewers,
  });
  const types = () => events.map((e) => e.type);
  return { hub, router, encoder, output, events, types };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(ok(), what);
}

/** A live primary and backup with these SPS units; the primary fails and the backup goes on air. */
async function failOverToBackup(hub: ChannelHub, primarySps: number[], backupSps: number[]): Promise<void> {
  const primary = new FakeSource({ sps: primarySps });
  const backup = new FakeSource({ sps: backupSps });
  hub.attach(primary, 'primary');
  hub.attach(backup, 'backup');
  primary.goLive();
  backup.goLive();
  primary.close('ICE failed');
  await until('the backup on air', () => hub.activeInput === 'backup');
}

function assertOnair(code: string) {
  return (err: unknown) => err instanceof OnairError && err.code === code;
}

void describe('ChannelHub', () => {
  void test('a publisher is negotiated by the router with bitrate hints from the ladder', async () => {
    const { hub, router } = setup({ ladder: '1080p' });
    const session = await hub.publish('v=0', SUMMARY);
    assert.equal(router.publishers[0], session);
    assert.deepEqual(router.publisherOptions[0]?.bitrate, { min: 2500, start: 4000, max: 6750 });
    assert.equal(router.publisherOptions[0]?.withAudio, true);
    assert.equal(hub.findSession(session.id), session);
    assert.equal(hub.live, false, 'not live before ICE connects');
    await hub.close();
  });

  void test('a source going live starts the encoder on its tracks; its RTP reaches the plain transport', async () => {
    const { hub, router, encoder, output, types } = setup();
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    assert.deepEqual(encoder.calls, [], 'nothing runs before the source is live');
    session.goLive();
    assert.equal(hub.live, true);
    assert.deepEqual(encoder.calls, ['start']);
    assert.deepEqual(
      encoder.input?.description.tracks.map((t) => [t.id, t.codec.name]),
      [
        ['video', 'H264'],
        ['audio', 'OPUS'],
      ],
    );
    assert.equal(encoder.settings?.mode, 'encode');
    assert.equal(encoder.settings?.segmentSeconds, 2);
    assert.deepEqual(
      encoder.settings?.ladder.renditions.map((r) => r.name),
      ['720p', '480p', '360p'],
    );
    // The router made the consumer: one target per track, payload types from the encoder's SDP.
    const transport = router.transports[0]!;
    assert.equal(
      transport.opts.source,
      hub.source,
      'the channel source (the failover switcher), not the session',
    );
    assert.equal(hub.source?.kind, 'failover');
    assert.equal(hub.activeInput, 'primary');
    assert.deepEqual(
      transport.opts.targets.map((t) => [t.trackId, t.port, t.payloadType, t.host]),
      [
        ['video', 40000, 96, '127.0.0.1'],
        ['audio', 40002, 111, '127.0.0.1'],
      ],
    );
    assert.equal(transport.opts.keyframeIntervalMs, 10_000, 'encode mode: a keyframe every 10 s');
    assert.ok(session.keyframeRequests >= 1, 'the consumer asked for a keyframe when it started');
    session.send('video');
    session.send('audio');
    // The keyframe the channel went on air with, then what followed.
    assert.deepEqual(
      transport.received.map((r) => r.trackId),
      ['video', 'video', 'audio'],
    );
    assert.deepEqual(
      transport.received.map((r) => r.payloadType),
      [102, 102, 111],
    );
    // The output was told about the run before anything else.
    assert.equal(output.runs.length, 1);
    assert.equal(output.expectedTracks, 4);
    assert.deepEqual(
      output.runs[0]?.tracks.map((t) => [t.id, t.bandwidth]),
      [
        ['720p', 3_000_000],
        ['480p', 1_400_000],
        ['360p', 800_000],
        ['audio', 128_000],
      ],
    );
    assert.ok(types().includes('publisher.connected'));
    assert.ok(types().includes('encoder.started'));
    await hub.close();
  });

  void test('passthrough: keyframes at the segment cadence, video bandwidth measured by the output', async () => {
    const { hub, router, output } = setup({ mode: 'passthrough', segmentSeconds: 3 });
    const session = (await hub.publish('v=0', SUMMARY_NO_AUDIO)) as FakeSource;
    session.goLive();
    assert.equal(router.transports[0]?.opts.keyframeIntervalMs, 3000);
    assert.equal(output.runs[0]?.tracks.find((t) => t.id === '720p')?.bandwidth, undefined);
    await hub.close();
  });

  void test('one source at a time: a second publisher is refused until the first has ended', async () => {
    const { hub } = setup();
    const first = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    await assert.rejects(hub.publish('v=0', SUMMARY), assertOnair('publisher_exists'));
    first.close('DELETE');
    const second = await hub.publish('v=0', SUMMARY);
    assert.notEqual(second, first);
    assert.equal(hub.findSession(first.id), undefined);
    await hub.close();
  });

  void test('two publishers racing: the second to finish negotiating loses and is closed', async () => {
    const { hub, router } = setup();
    let release!: () => void;
    router.gate = new Promise((resolve) => (release = resolve));
    const a = hub.publish('v=0', SUMMARY);
    const b = hub.publish('v=0', SUMMARY);
    release();
    const [ra, rb] = await Promise.allSettled([a, b]);
    assert.equal(ra.status, 'fulfilled');
    assert.equal(rb.status, 'rejected');
    assert.ok(assertOnair('publisher_exists')(rb.reason));
    assert.equal(router.publishers[1]?.state, 'ended', 'the loser is closed');
    await hub.close();
  });

  void test('the source ending stops the encoder and closes the consumer with a BYE; the channel waits', async () => {
    const { hub, router, encoder, output, types } = setup();
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    session.goLive();
    session.close('ICE failed');
    await until('the encoder has stopped', () => types().includes('encoder.stopped'));
    assert.deepEqual(encoder.calls, ['start', 'stop']);
    assert.deepEqual(router.transports[0]?.closedWith, { bye: true });
    assert.deepEqual(output.endedRuns, [output.runs[0]?.runId]);
    assert.equal(hub.live, false);
    assert.equal(hub.activeInput, undefined);
    assert.ok(types().includes('publisher.disconnected'));
    assert.ok(types().includes('encoder.stopped'));
    assert.equal(router.closed, false, 'the channel keeps running');
    // It comes back: a new run.
    const again = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    again.goLive();
    assert.equal(output.runs.length, 2);
    await hub.close();
  });

  void test('an encoder failure is a typed channel event', async () => {
    const { hub, encoder, types } = setup();
    ((await hub.publish('v=0', SUMMARY)) as FakeSource).goLive();
    await encoder.crash();
    assert.ok(types().includes('encoder.failed'));
    await hub.close();
  });

  void test('stats are typed and follow the source', async () => {
    const { hub } = setup();
    const idle = hub.stats();
    assert.equal(idle.live, false);
    assert.equal(idle.ingest, null);
    assert.equal(idle.encoder?.running, false);
    assert.deepEqual(idle.encoder?.renditions, []);
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    session.goLive();
    const s = hub.stats();
    assert.equal(s.live, true);
    assert.equal(s.ingest?.source, 'webrtc');
    assert.equal(s.ingest?.engine, 'fake');
    assert.equal(s.ingest?.state, 'live');
    assert.equal(s.ingest?.videoCodec, 'H264');
    assert.equal(s.ingest?.audioCodec, 'OPUS');
    assert.equal(s.ingest?.width, 1280);
    assert.ok(s.ingest?.connectedSince);
    assert.equal(s.encoder?.running, true);
    assert.deepEqual(s.encoder?.renditions, ['720p', '480p', '360p']);
    assert.equal(s.output?.segments, 0);
    await hub.close();
  });

  void test('programs: a window while running, forgotten when stopped', async () => {
    const { hub, output } = setup();
    const started = Date.now() - 10_000;
    hub.programs.start('pg_1', started, 300);
    assert.equal(hub.programs.has('pg_1'), true);
    assert.equal(hub.programs.since('pg_1'), started);
    assert.deepEqual(output.window('pg_1'), { since: started, seconds: 300 });
    // A window shorter than the time the program has run: only its last part.
    hub.programs.start('pg_2', started, 5);
    assert.ok(Math.abs(hub.programs.since('pg_2')! - (Date.now() - 5000)) < 100);
    assert.equal(hub.programs.recording('pg_1')?.durationSeconds, 0, 'nothing recorded yet');
    hub.programs.stop('pg_1');
    assert.equal(hub.programs.has('pg_1'), false);
    assert.equal(hub.programs.recording('pg_1'), undefined);
    await hub.close();
  });

  void test('settings are a snapshot replaced as a whole', async () => {
    const { hub } = setup();
    const before = hub.config;
    assert.ok(Object.isFrozen(before));
    const next = channelConfig({ name: 'renamed', preview: ['10.0.0.0/8'] });
    hub.setConfig(next);
    assert.equal(hub.config, next);
    assert.equal(before.name, 'test', 'the old snapshot is untouched');
    await hub.close();
  });

  void test('reset drops the publisher and the live window, and takes the new key', async () => {
    const { hub, encoder } = setup();
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    session.goLive();
    await hub.reset(channelConfig({ streamKey: 'sk_new' }));
    assert.equal(session.state, 'ended');
    assert.equal(encoder.running, false);
    assert.equal(hub.config.streamKey, 'sk_new');
    assert.equal(hub.stats().history.length, 0);
    await hub.close();
  });

  void test('close cascades once: source, encoder, router, output', async () => {
    const { hub, router, encoder, output } = setup();
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    session.goLive();
    await hub.close();
    await hub.close();
    assert.equal(session.state, 'ended');
    assert.equal(encoder.closed, true);
    assert.deepEqual(
      encoder.calls.filter((c) => c === 'close'),
      ['close'],
    );
    assert.equal(router.closed, true);
    assert.equal(output.endedRuns.length, 1);
    assert.equal(output.ended, true);
    assert.equal(hub.closed, true);
    await assert.rejects(hub.publish('v=0', SUMMARY), assertOnair('channel_not_running'));
  });
});

const VIEWER_OFFER = handOffer([
  { kind: 'video', codecs: ['H264/90000 packetization-mode=1'], direction: 'recvonly' },
  { kind: 'audio', codecs: ['opus/48000/2'], direction: 'recvonly' },
]);
const VIEWER = inspectViewerOffer(VIEWER_OFFER);
const IDR = [0x65, 0x88];

void describe('ChannelHub redundant ingest', () => {
  const SUMMARY_VP8 = { videoCodec: 'VP8', audio: {} } as unknown as OfferSummary;

  void test('a backup must send the codecs on air: another video codec or no audio is refused (422)', async () => {
    const { hub } = setup();
    const primary = (await hub.publish('v=0', SUMMARY, 'primary')) as FakeSource;
    primary.goLive();
    await assert.rejects(
      hub.publish('v=0', SUMMARY_VP8, 'backup'),
      (err) => assertOnair('unsupported_offer')(err) && /H264 video/.test((err as Error).message),
    );
    await assert.rejects(hub.publish('v=0', SUMMARY_NO_AUDIO, 'backup'), assertOnair('unsupported_offer'));
    await assert.rejects(hub.publish('v=0', SUMMARY, 'primary'), assertOnair('publisher_exists'));
    const backup = await hub.publish('v=0', SUMMARY, 'backup');
    assert.equal(backup.state, 'connecting');
    await hub.close();
  });

  void test('the primary ending: the backup is on air in the same encoder run, with a failover event', async () => {
    const { hub, encoder, output, events } = setup();
    const primary = (await hub.publish('v=0', SUMMARY, 'primary')) as FakeSource;
    const backup = (await hub.publish('v=0', SUMMARY, 'backup')) as FakeSource;
    primary.goLive();
    backup.goLive();
    assert.equal(hub.activeInput, 'primary');
    primary.close('DELETE');
    await until('the backup on air', () => hub.activeInput === 'backup');
    assert.deepEqual(encoder.calls, ['start'], 'no new run: the encoder saw one continuous input');
    assert.equal(output.runs.length, 1);
    assert.equal(hub.live, true);
    const failover = events.find((e) => e.type === 'input.failover');
    assert.match(
      failover?.message ?? '',
      /^backup is on air instead of primary \(primary ended; \d\.\d s without media\)$/,
    );
    const st = hub.stats();
    assert.equal(st.inputs?.active, 'backup');
    assert.equal(st.inputs?.lastSwitch?.from, 'primary');
    assert.equal(st.inputs?.primary, null);
    assert.equal(st.inputs?.backup?.onAir, true);
    await hub.close();
  });

  void test('passthrough: a backup with other H.264 parameter sets starts a new run, and the event says so', async () => {
    const { hub, encoder, events } = setup({ mode: 'passthrough' });
    await failOverToBackup(hub, [0x67, 0x42, 0xc0, 0x1f], [0x67, 0x64, 0x00, 0x28]);
    assert.deepEqual(
      encoder.calls.filter((c) => c === 'start'),
      ['start', 'start'],
    );
    assert.match(
      events.find((e) => e.type === 'input.failover')?.message ?? '',
      /a new encoder run, with a discontinuity/,
    );
    await hub.close();
  });

  void test('passthrough: the same parameter sets switch seamlessly', async () => {
    const { hub, encoder } = setup({ mode: 'passthrough' });
    const sps = [0x67, 0x42, 0xc0, 0x1f];
    await failOverToBackup(hub, sps, sps);
    assert.deepEqual(encoder.calls, ['start']);
    await hub.close();
  });
});

void describe('ChannelHub viewers (WHEP)', () => {
  void test('no live publisher → publisher_not_live; then viewers are made on the live source', async () => {
    const { hub, router } = setup();
    await assert.rejects(hub.watch(VIEWER_OFFER, VIEWER), assertOnair('publisher_not_live'));
    const session = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    await assert.rejects(
      hub.watch(VIEWER_OFFER, VIEWER),
      assertOnair('publisher_not_live'),
      'not before ICE',
    );
    session.goLive();
    const viewer = (await hub.watch(VIEWER_OFFER, VIEWER)) as FakeViewer;
    assert.equal(router.viewers[0], viewer);
    assert.equal(viewer.source, hub.source, 'viewers watch the channel source (the failover switcher)');
    assert.equal(hub.findViewer(viewer.id), viewer);
    viewer.connect();
    session.emit('video', 102, 20, { seq: 1, ts: 0, payload: IDR });
    assert.equal(viewer.sent.length, 1, 'the viewer receives the source');
    const stats = hub.stats().viewers;
    assert.deepEqual(
      {
        count: stats?.count,
        connected: stats?.connected,
        sessions: stats?.sessions,
        sent: stats?.packetsSent,
      },
      { count: 1, connected: 1, sessions: 1, sent: 1 },
    );
    viewer.close('DELETE');
    assert.equal(hub.findViewer(viewer.id), undefined);
    assert.equal(hub.stats().viewers?.count, 0);
    assert.equal(hub.stats().viewers?.packetsSent, 1, 'totals outlive the session');
    await hub.close();
  });

  void test('the viewer limit counts sessions still negotiating', async () => {
    const { hub, router } = setup({}, { maxViewers: 2 });
    ((await hub.publish('v=0', SUMMARY)) as FakeSource).goLive();
    let release!: () => void;
    router.viewerGate = new Promise((resolve) => (release = resolve));
    const a = hub.watch(VIEWER_OFFER, VIEWER);
    const b = hub.watch(VIEWER_OFFER, VIEWER);
    await assert.rejects(hub.watch(VIEWER_OFFER, VIEWER), assertOnair('viewer_limit_reached'));
    release();
    const [va] = await Promise.all([a, b]);
    await assert.rejects(hub.watch(VIEWER_OFFER, VIEWER), assertOnair('viewer_limit_reached'));
    va.close('DELETE');
    await hub.watch(VIEWER_OFFER, VIEWER);
    assert.equal(hub.stats().viewers?.limit, 2);
    await hub.close();
  });

  void test('a publisher that reconnects: viewers wait, then continue on the new source without a gap', async () => {
    const { hub } = setup();
    const first = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    first.goLive();
    const viewer = ((await hub.watch(VIEWER_OFFER, VIEWER)) as FakeViewer).connect();
    first.emit('video', 102, 20, { seq: 500, ts: 1000, payload: IDR });
    first.close('DELETE');
    assert.equal(viewer.state, 'connected', 'the viewer waits');
    assert.equal(viewer.source, undefined);
    const second = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    second.goLive();
    assert.equal(viewer.source, hub.source, 'back on the channel source, now fed by the new publisher');
    assert.ok(second.keyframeRequests >= 1, 'the new source is asked for a keyframe');
    second.emit('video', 102, 20, { seq: 9, ts: 77, payload: IDR });
    assert.equal(viewer.sent.length, 2);
    assert.equal((viewer.sent[1]!.seq - viewer.sent[0]!.seq) & 0xffff, 1);
    await hub.close();
    assert.equal(viewer.state, 'closed', 'viewers end with the channel');
    assert.equal(viewer.closeReason, 'channel stopped');
  });

  void test('waiting viewers end when no publisher comes back in time', async () => {
    const { hub } = setup({}, { viewerWaitMs: 30 });
    const first = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    first.goLive();
    const viewer = ((await hub.watch(VIEWER_OFFER, VIEWER)) as FakeViewer).connect();
    first.close('ICE failed');
    await until('the viewer has ended', () => viewer.state === 'closed');
    assert.match(viewer.closeReason ?? '', /no publisher came back/);
    await hub.close();
  });

  void test('a new publisher with another video codec ends the viewers (they reconnect)', async () => {
    const { hub, router } = setup();
    const first = (await hub.publish('v=0', SUMMARY)) as FakeSource;
    first.goLive();
    const viewer = ((await hub.watch(VIEWER_OFFER, VIEWER)) as FakeViewer).connect();
    first.close('DELETE');
    router.publisherCodec = VP8;
    ((await hub.publish('v=0', SUMMARY)) as FakeSource).goLive();
    assert.equal(viewer.state, 'closed');
    assert.match(viewer.closeReason ?? '', /other codecs/);
    await hub.close();
  });

  void test('reset ends the viewers but takes new ones once a publisher is live', async () => {
    const { hub } = setup();
    ((await hub.publish('v=0', SUMMARY)) as FakeSource).goLive();
    const viewer = (await hub.watch(VIEWER_OFFER, VIEWER)) as FakeViewer;
    await hub.reset(channelConfig({ streamKey: 'sk_new' }));
    assert.equal(viewer.state, 'closed');
    ((await hub.publish('v=0', SUMMARY)) as FakeSource).goLive();
    await hub.watch(VIEWER_OFFER, VIEWER);
    await hub.close();
    await assert.rejects(hub.watch(VIEWER_OFFER, VIEWER), assertOnair('channel_not_running'));
  });
});
