/** The encoder supervisor with stand-in runs: restart with backoff, order of runs, stop and close. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LADDERS } from '../../lib/ladders.ts';
import { createLogger } from '../../server/log.ts';
import { ChildProcesses } from '../../server/media/child-processes.ts';
import type { FfmpegRunOptions, RunExit } from '../../server/transcode/ffmpeg-run.ts';
import {
  EncoderSupervisor,
  type EncoderInput,
  type EncoderSettings,
  type SupervisedRun,
} from '../../server/transcode/supervisor.ts';

const log = createLogger('silent');
const SETTINGS: EncoderSettings = { ladder: LADDERS['720p'], mode: 'encode', segmentSeconds: 2 };

class FakeRun implements SupervisedRun {
  readonly runId: string;
  readonly runDir: string;
  readonly tracks = [{ id: '720p', kind: 'video' as const, bandwidth: 3_000_000 }];
  readonly startedAt = Date.now();
  readonly progress = { speed: 1, fps: 20, frame: 1, outTimeMs: 0, updatedAt: 0 };
  running = true;
  stopped = false;
  readonly #onExit: (exit: RunExit) => void;

  constructor(opts: FfmpegRunOptions) {
    this.runId = opts.runId;
    this.runDir = `${opts.liveDir}/${opts.runId}`;
    this.#onExit = opts.onExit;
  }

  /** FFmpeg dies by itself. */
  crash(): void {
    this.running = false;
    this.#onExit({ code: 1, signal: null, expected: false, stderrTail: 'boom' });
  }

  stop(): Promise<RunExit> {
    this.stopped = true;
    this.running = false;
    const exit = { code: 0, signal: null, expected: true, stderrTail: '' };
    this.#onExit(exit);
    return Promise.resolve(exit);
  }
}

function input(): EncoderInput {
  return {
    description: { tracks: [] },
    connect: () => ({ close: () => undefined }),
  };
}

function setup(opts: { failStarts?: number } = {}) {
  const log2: string[] = [];
  const runs: FakeRun[] = [];
  const options: FfmpegRunOptions[] = [];
  let failures = opts.failStarts ?? 0;
  const sup = new EncoderSupervisor({
    ffmpegPath: 'ffmpeg',
    liveDir: '/live',
    log,
    children: new ChildProcesses(),
    backoffMs: [20, 40],
    hooks: {
      runStarted: (run) => log2.push(`started ${run.runId}`),
      runEnded: async (run) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        log2.push(`ended ${run.runId}`);
      },
    },
    startRun: (o) => {
      options.push(o);
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('no such file'));
      }
      const run = new FakeRun(o);
      runs.push(run);
      return Promise.resolve(run);
    },
  });
  const events: string[] = [];
  sup.on('started', () => events.push('started'));
  sup.on('stopped', () => events.push('stopped'));
  sup.on('failed', (m) => events.push(`failed: ${m}`));
  sup.on('restarting', (attempt, delay) => events.push(`restarting ${attempt} ${delay}`));
  return { sup, runs, options, hooks: log2, events };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(ok(), what);
}

void describe('EncoderSupervisor', () => {
  void test('start runs the encoder on the input and settings; stop ends it once', async () => {
    const { sup, runs, options, hooks, events } = setup();
    const inp = input();
    sup.start(inp, SETTINGS);
    await until('a run', () => runs.length === 1);
    assert.equal(options[0]?.input, inp.description);
    assert.equal(options[0]?.connect, inp.connect);
    assert.equal(options[0]?.mode, 'encode');
    assert.equal(sup.running, true);
    assert.deepEqual(
      sup.tracks.map((t) => t.id),
      ['720p'],
    );
    await sup.stop();
    assert.equal(runs[0]?.stopped, true);
    assert.equal(sup.running, false);
    assert.deepEqual(hooks, [`started ${runs[0].runId}`, `ended ${runs[0].runId}`]);
    assert.deepEqual(events, ['started', 'stopped']);
    await sup.close();
  });

  void test('a run that dies is restarted after the backoff, its end hook first', async () => {
    const { sup, runs, hooks, events } = setup();
    sup.start(input(), SETTINGS);
    await until('a run', () => runs.length === 1);
    runs[0]!.crash();
    await until('a second run', () => runs.length === 2);
    assert.deepEqual(hooks, [
      `started ${runs[0]!.runId}`,
      `ended ${runs[0]!.runId}`,
      `started ${runs[1]!.runId}`,
    ]);
    assert.equal(events[1], 'failed: encoder exited unexpectedly (code 1): boom');
    assert.equal(events[2], 'restarting 1 20');
    assert.equal(sup.restarts, 1);
    runs[1]!.crash();
    await until('a third run', () => runs.length === 3);
    assert.ok(events.includes('restarting 2 40'), events.join(', '));
    await sup.close();
  });

  void test('a run that cannot start is retried; stop cancels a pending restart', async () => {
    const { sup, runs, options, events } = setup({ failStarts: 1 });
    sup.start(input(), SETTINGS);
    await until('a retry', () => runs.length === 1);
    assert.equal(options.length, 2);
    assert.match(events[0] ?? '', /^failed: encoder failed to start: no such file/);
    runs[0]!.crash();
    await until('a restart pending', () => events.includes('restarting 1 20'));
    await sup.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(runs.length, 1, 'no run after stop');
    await sup.close();
  });

  void test('a new input replaces the run: the old one ends before the new one starts', async () => {
    const { sup, runs, hooks } = setup();
    sup.start(input(), SETTINGS);
    sup.start(input(), SETTINGS);
    await until('two runs', () => runs.length === 2);
    assert.deepEqual(hooks, [
      `started ${runs[0]!.runId}`,
      `ended ${runs[0]!.runId}`,
      `started ${runs[1]!.runId}`,
    ]);
    assert.equal(runs[0]?.stopped, true);
    await sup.close();
    await sup.close();
    sup.start(input(), SETTINGS);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(runs.length, 2, 'nothing starts after close');
  });
});
