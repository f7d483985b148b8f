/**
 * Starts the SFU engine the configuration asks for: probe (engine-select.ts),
 * decide, start, and say which engine runs and why in one log line. In `auto`,
 * a mediasoup worker that is found but does not start falls back to werift.
 */
import { OnairError } from '../../lib/errors.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SfuEngine } from './engine.ts';
import { probeMediasoup, selectEngine } from './engine-select.ts';
import type { MediasoupModule } from './mediasoup/mediasoup-api.ts';
import { MediasoupEngine } from './mediasoup/mediasoup-engine.ts';
import { WeriftEngine } from './werift/werift-engine.ts';

export interface StartedEngine {
  engine: SfuEngine;
  /** Why this engine runs (logged at start, shown in /healthz). */
  reason: string;
}

export function weriftEngine(config: Config, log: Logger): WeriftEngine {
  return new WeriftEngine({
    log,
    iceServers: config.iceServers,
    publicIp: config.publicIp,
    portRange: config.rtcPortRange,
    loopbackOnly: config.loopbackOnlyIce,
  });
}

async function loadMediasoup(): Promise<MediasoupModule> {
  // Not a literal: mediasoup is optional, and its types are not needed to compile (mediasoup-api.ts).
  const specifier: string = 'mediasoup';
  const mod = (await import(specifier)) as MediasoupModule & { default?: MediasoupModule };
  return typeof mod.createWorker === 'function' ? mod : mod.default!;
}

/** Throws OnairError('unavailable') when mediasoup was asked for explicitly and cannot run. */
export async function startSfuEngine(config: Config, log: Logger): Promise<StartedEngine> {
  const sfuLog = log.child({ component: 'sfu' });
  const selection = selectEngine(config.sfu, probeMediasoup(config.mediasoupWorkerBin));
  if (selection.error !== undefined) throw new OnairError('unavailable', selection.error);
  let started: StartedEngine;
  if (selection.engine === 'mediasoup') {
    try {
      const engine = await MediasoupEngine.start({
        log: sfuLog,
        mediasoup: await loadMediasoup(),
        workerBin: probeMediasoup(config.mediasoupWorkerBin).workerBin!,
        workers: config.sfuWorkers,
        iceServers: config.iceServers,
        publicIp: config.publicIp,
        portRange: config.rtcPortRange,
        singlePort: config.rtcSinglePort,
        loopbackOnly: config.loopbackOnlyIce,
      });
      started = { engine, reason: `${selection.reason}; ${config.sfuWorkers} worker(s)` };
    } catch (err) {
      if (config.sfu === 'mediasoup') {
        throw new OnairError('unavailable', `the mediasoup worker did not start: ${(err as Error).message}`, {
          cause: err,
        });
      }
      started = {
        engine: weriftEngine(config, sfuLog),
        reason: `auto: the mediasoup worker did not start (${(err as Error).message}); werift runs`,
      };
    }
  } else {
    started = { engine: weriftEngine(config, sfuLog), reason: selection.reason };
  }
  log.info(
    { engine: started.engine.name, reason: started.reason },
    `SFU engine: ${started.engine.name} (${started.reason})`,
  );
  return started;
}
