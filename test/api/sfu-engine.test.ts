/**
 * The SFU engine, against the real server process. Everywhere: which engine
 * runs and why, in /healthz and /metrics; `ONAIR_SFU=mediasoup` without a
 * worker stops the server with one line; `auto` without one runs werift.
 * Where a mediasoup worker is found (MEDIASOUP_WORKER_BIN, or mediasoup's own
 * build): WHIP → segments and a WHEP viewer through mediasoup, a killed worker
 * that the channel recovers from, and no worker left after shutdown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel } from '../../lib/schemas.ts';
import { probeMediasoup } from '../../server/sfu/engine-select.ts';
import { runUntilExit, startServer, type TestServer } from '../helpers/server.ts';
import { childrenOf, isAlive, waitFor } from '../helpers/procs.ts';
import { createChannel, publishTo, startChannel } from '../helpers/live-channel.ts';
import { watchWhepProcess } from '../helpers/viewer-process.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

interface Health {
  status: string;
  details: { sfu: { engine: string; reason: string; workers?: number; workerDeaths?: number } };
}

const probe = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
const worker = probe.workerBin !== undefined && probe.packageDir !== undefined;
if (!worker) {
  process.stdout.write(
    `\n  SKIPPED: the mediasoup engine tests need a worker (${probe.problem ?? 'none found'}); ` +
      'set MEDIASOUP_WORKER_BIN to run them. werift runs everywhere else.\n\n',
  );
}

void describe('which engine runs', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ env: { ONAIR_SFU: 'werift' } });
  });
  after(async () => {
    await s.stop();
  });

  void test('/healthz and /metrics name the engine and the reason', async () => {
    const h = await s.request('GET', '/healthz', { auth: false });
    assert.equal(h.status, 200);
    const health = h.json as Health;
    assert.equal(health.details.sfu.engine, 'werift');
    assert.equal(health.details.sfu.reason, 'ONAIR_SFU=werift');
    const m = await s.request('GET', '/metrics', { auth: false });
    assert.match(m.text, /^onair_sfu_engine_info\{engine="werift"\} 1$/m);
    assert.match(s.stdout, /"msg":"SFU engine: werift \(ONAIR_SFU=werift\)"/);
  });

  void test('auto without a worker runs werift and says why; mediasoup without one stops the server', async () => {
    const auto = await startServer({
      env: { ONAIR_SFU: 'auto', MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' },
    });
    try {
      const health = (await auto.request('GET', '/healthz', { auth: false })).json as Health;
      assert.equal(health.details.sfu.engine, 'werift');
      assert.match(health.details.sfu.reason, /^auto: .*; werift runs$/);
    } finally {
      await auto.stop();
    }
    const exit = await runUntilExit({
      ONAIR_SFU: 'mediasoup',
      MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker',
      ONAIR_UI: '0',
      PORT: '0',
    });
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, /^onair: ONAIR_SFU=mediasoup but mediasoup cannot run: .*\n$/);
  });
});

void describe(
  'mediasoup engine (needs a worker)',
  { skip: worker ? false : 'no mediasoup worker found' },
  () => {
    let s: TestServer;
    let channel: Channel;
    let publisher: WhipPublisher | undefined;

    before(async () => {
      s = await startServer({
        env: { ONAIR_SFU: 'mediasoup', ONAIR_SFU_WORKERS: '1', ONAIR_LOOPBACK_ONLY_ICE: '1' },
      });
      channel = await createChannel(s, { name: 'mediasoup', mode: 'passthrough' });
      await startChannel(s, channel.id);
    });
    after(async () => {
      await publisher?.stop();
      await s.stop();
    });

    const workers = () => childrenOf(s.pid!).filter((p) => p.cmdline.join(' ').includes('mediasoup-worker'));

    async function publish(): Promise<WhipPublisher> {
      const p = await publishTo(s, channel, { gop: 20 });
      assert.match(p.answer, /^a=ice-lite/m, 'answered by mediasoup (ICE-lite)');
      return p;
    }

    async function segments(): Promise<number> {
      const st = await s.api<{ output: { segments: number } }>('GET', `/api/v1/channels/${channel.id}/stats`);
      return st.json.output.segments;
    }

    void test('WHIP → HLS segments, and a WHEP viewer, through mediasoup', async () => {
      const health = (await s.request('GET', '/healthz', { auth: false })).json as Health;
      assert.equal(health.details.sfu.engine, 'mediasoup');
      assert.equal(workers().length, 1);
      publisher = await publish();
      await waitFor('a segment', async () => (await segments()) >= 1, 15_000);
      const group = await watchWhepProcess({ url: `${s.url}/whep/${channel.id}` });
      try {
        assert.equal(group.posted[0]?.status, 201, group.posted[0]?.answer);
        await group.connected;
        await waitFor(
          'video and audio at the viewer',
          async () => {
            const [r] = await group.stats();
            return r && r.counters.video.keyframes >= 1 && r.counters.audio.packets > 20 ? r : undefined;
          },
          10_000,
        );
      } finally {
        await group.stop();
      }
    });

    void test('a killed worker: the log says so, another starts, the channel takes a new publisher', async () => {
      const [w] = workers();
      assert.ok(w);
      process.kill(w.pid, 'SIGKILL');
      await waitFor('a new worker', () => workers().some((x) => x.pid !== w.pid), 10_000);
      assert.match(s.stdout, /the SFU worker of this channel died/);
      const health = (await s.request('GET', '/healthz', { auth: false })).json as Health;
      assert.equal(health.details.sfu.workerDeaths, 1);
      await publisher?.stop();
      const before = await segments();
      publisher = await publish();
      await waitFor('segments again', async () => (await segments()) > before, 15_000);
    });

    void test('nothing is left running after shutdown', async () => {
      const pids = workers().map((p) => p.pid);
      await publisher?.stop();
      publisher = undefined;
      await s.stop();
      for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} is gone`);
    });
  },
);
