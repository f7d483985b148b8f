/** Which SFU engine runs (server/sfu/engine-select.ts), and the configuration behind it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { probeMediasoup, selectEngine, type MediasoupProbe } from '../../server/sfu/engine-select.ts';
import { asksForKeyframe } from '../../server/sfu/mediasoup/feed.ts';

const FOUND: MediasoupProbe = {
  packageDir: '/app/node_modules/mediasoup',
  workerBin: '/opt/mediasoup-worker',
  workerFrom: 'MEDIASOUP_WORKER_BIN',
  problem: undefined,
};
const NO_PACKAGE: MediasoupProbe = {
  packageDir: undefined,
  workerBin: undefined,
  workerFrom: undefined,
  problem: 'the mediasoup package is not installed',
};
const NO_WORKER: MediasoupProbe = {
  packageDir: '/app/node_modules/mediasoup',
  workerBin: undefined,
  workerFrom: undefined,
  problem: 'mediasoup is installed without its worker',
};

describe('selectEngine', () => {
  test('auto with a worker: mediasoup, saying where the worker is', () => {
    const s = selectEngine('auto', FOUND);
    assert.equal(s.engine, 'mediasoup');
    assert.match(s.reason, /auto: mediasoup worker found \(MEDIASOUP_WORKER_BIN: \/opt\/mediasoup-worker\)/);
    const own = selectEngine('auto', { ...FOUND, workerFrom: 'package' });
    assert.match(own.reason!, /mediasoup's own build/);
  });

  test('auto without a worker or without the package: werift, saying why', () => {
    for (const probe of [NO_PACKAGE, NO_WORKER]) {
      const s = selectEngine('auto', probe);
      assert.equal(s.engine, 'werift');
      assert.equal(s.reason, `auto: ${probe.problem!}; werift runs`);
    }
  });

  test('werift is werift, found or not', () => {
    assert.deepEqual(selectEngine('werift', FOUND), { engine: 'werift', reason: 'ONAIR_SFU=werift' });
  });

  test('mediasoup asked for: runs when found, an error naming the problem when not', () => {
    assert.equal(selectEngine('mediasoup', FOUND).engine, 'mediasoup');
    const s = selectEngine('mediasoup', NO_WORKER);
    assert.equal(s.engine, undefined);
    assert.match(
      s.error,
      /ONAIR_SFU=mediasoup but mediasoup cannot run: mediasoup is installed without its worker/,
    );
  });
});

describe('probeMediasoup', () => {
  test('MEDIASOUP_WORKER_BIN that is not an executable file is no worker', () => {
    const probe = probeMediasoup('/nonexistent/mediasoup-worker');
    assert.equal(probe.workerBin, undefined);
    assert.ok(probe.problem);
    assert.equal(selectEngine('auto', probe).engine, 'werift');
  });

  test('an executable MEDIASOUP_WORKER_BIN is found when the package is installed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onair-ms-'));
    try {
      const bin = path.join(dir, 'mediasoup-worker');
      writeFileSync(bin, '#!/bin/sh\nexit 1\n');
      chmodSync(bin, 0o755);
      const probe = probeMediasoup(bin);
      if (probe.packageDir === undefined) {
        // This machine has no mediasoup package (its installer could not get a worker): werift.
        assert.equal(probe.problem, 'the mediasoup package is not installed');
        assert.equal(selectEngine('auto', probe).engine, 'werift');
      } else {
        assert.equal(probe.workerBin, bin);
        assert.equal(probe.workerFrom, 'MEDIASOUP_WORKER_BIN');
        assert.equal(selectEngine('auto', probe).engine, 'mediasoup');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config: ONAIR_SFU and friends', () => {
  test('defaults: auto, one worker per core, no single port', () => {
    const c = loadConfig({});
    assert.equal(c.sfu, 'auto');
    assert.ok(c.sfuWorkers >= 1);
    assert.equal(c.rtcSinglePort, undefined);
    assert.equal(c.mediasoupWorkerBin, undefined);
  });

  test('values are read and checked', () => {
    const c = loadConfig({
      ONAIR_SFU: 'mediasoup',
      ONAIR_SFU_WORKERS: '3',
      ONAIR_RTC_SINGLE_PORT: '40000',
      MEDIASOUP_WORKER_BIN: '/opt/w',
    });
    assert.deepEqual(
      [c.sfu, c.sfuWorkers, c.rtcSinglePort, c.mediasoupWorkerBin],
      ['mediasoup', 3, 40000, '/opt/w'],
    );
    assert.throws(() => loadConfig({ ONAIR_SFU: 'janus' }), /ONAIR_SFU.*auto, mediasoup, werift/);
    assert.throws(() => loadConfig({ ONAIR_SFU_WORKERS: '0' }), ConfigError);
    assert.throws(() => loadConfig({ ONAIR_RTC_SINGLE_PORT: '70000' }), ConfigError);
    assert.throws(
      () =>
        loadConfig({
          ONAIR_RTC_SINGLE_PORT: '40005',
          ONAIR_SFU_WORKERS: '2',
          ONAIR_RTC_PORT_MIN: '40000',
          ONAIR_RTC_PORT_MAX: '40100',
        }),
      /outside ONAIR_RTC_PORT_MIN/,
    );
  });
});

describe('keyframe requests from the worker (RTCP on the feed’s DirectTransport)', () => {
  test('PLI and FIR ask for a keyframe, a receiver report does not', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0]);
    const nack = Buffer.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0]);
    assert.equal(asksForKeyframe(rr), false);
    assert.equal(asksForKeyframe(pli), true);
    assert.equal(asksForKeyframe(fir), true);
    assert.equal(asksForKeyframe(nack), false);
    assert.equal(asksForKeyframe(Buffer.concat([rr, pli])), true);
  });
});
