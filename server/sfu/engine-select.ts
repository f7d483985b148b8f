/**
 * Which SFU engine runs: a pure decision over what was asked (`ONAIR_SFU`) and
 * what was found (probeMediasoup), with the reason said in one line at start,
 * in /healthz and in /metrics.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SfuEngineChoice } from '../config.ts';

/** What is installed: mediasoup's Node package, and a worker binary that can run. */
export interface MediasoupProbe {
  /** The mediasoup package's directory, when it is installed. */
  packageDir: string | undefined;
  /** An executable worker, when one was found. */
  workerBin: string | undefined;
  /** Where the worker was found: MEDIASOUP_WORKER_BIN, or the package's own build. */
  workerFrom: 'MEDIASOUP_WORKER_BIN' | 'package' | undefined;
  /** Why mediasoup cannot run, when it cannot. */
  problem: string | undefined;
}

export type EngineSelection =
  | { engine: 'mediasoup' | 'werift'; reason: string; error?: undefined }
  | { engine?: undefined; reason?: undefined; error: string };

/** Pure: the engine for `requested` given what the probe found. */
export function selectEngine(requested: SfuEngineChoice, probe: MediasoupProbe): EngineSelection {
  if (requested === 'werift') return { engine: 'werift', reason: 'ONAIR_SFU=werift' };
  const found = probe.packageDir !== undefined && probe.workerBin !== undefined && !probe.problem;
  if (requested === 'mediasoup') {
    if (found) return { engine: 'mediasoup', reason: `ONAIR_SFU=mediasoup, worker ${probe.workerBin}` };
    return {
      error: `ONAIR_SFU=mediasoup but mediasoup cannot run: ${probe.problem ?? 'no worker found'} (set ONAIR_SFU=auto or werift to run without it)`,
    };
  }
  if (found) {
    return {
      engine: 'mediasoup',
      reason: `auto: mediasoup worker found (${probe.workerFrom === 'MEDIASOUP_WORKER_BIN' ? 'MEDIASOUP_WORKER_BIN' : "mediasoup's own build"}: ${probe.workerBin})`,
    };
  }
  return { engine: 'werift', reason: `auto: ${probe.problem ?? 'no mediasoup worker found'}; werift runs` };
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Looks for mediasoup without starting anything: its package (an optional
 * dependency, absent where its installer could not get a worker) and a worker
 * (MEDIASOUP_WORKER_BIN, else the package's worker/out/Release/mediasoup-worker,
 * where scripts/setup-mediasoup.sh links a worker it was given). `from`: where
 * the package is resolved from (this file's install; a test's own project).
 */
export function probeMediasoup(
  workerBinFromEnv: string | undefined,
  from: string = import.meta.url,
): MediasoupProbe {
  let packageDir: string | undefined;
  try {
    // The package's entry point (its `exports` do not list package.json), then up to its root.
    let dir = path.dirname(createRequire(from).resolve('mediasoup'));
    while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    packageDir = dir;
  } catch {
    return {
      packageDir: undefined,
      workerBin: undefined,
      workerFrom: undefined,
      problem: 'the mediasoup package is not installed',
    };
  }
  if (workerBinFromEnv) {
    return executable(workerBinFromEnv)
      ? { packageDir, workerBin: workerBinFromEnv, workerFrom: 'MEDIASOUP_WORKER_BIN', problem: undefined }
      : {
          packageDir,
          workerBin: undefined,
          workerFrom: undefined,
          problem: `MEDIASOUP_WORKER_BIN=${workerBinFromEnv} is not an executable file`,
        };
  }
  const own = path.join(packageDir, 'worker', 'out', 'Release', 'mediasoup-worker');
  return executable(own)
    ? { packageDir, workerBin: own, workerFrom: 'package', problem: undefined }
    : {
        packageDir,
        workerBin: undefined,
        workerFrom: undefined,
        problem: 'mediasoup is installed without its worker (its installer could not download or build one)',
      };
}
