/**
 * The one place an SFU engine is chosen and made: probe (engine-select.ts),
 * decide, start, and say which engine runs and why in one log line. In `auto`,
 * a mediasoup worker that is found but does not start falls back to werift.
 * Whoever needs an engine (main, the live runtime's default, the bench) gets it
 * from here.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { MediaError } from '../media/errors.ts';
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

/** What either engine is made with. */
export interface EngineSettings {
  log: Logger;
  iceServers: Config['iceServers'];
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  loopbackOnly: boolean;
}

/** What mediasoup needs besides: its worker binary, how many workers, the one UDP port if set. */
export interface MediasoupSettings extends EngineSettings {
  workerBin: string;
  workers: number;
  singlePort: number | undefined;
}

/** Settings for an engine on one machine: loopback ICE only, no STUN or TURN (tests and the bench). */
export function loopbackSettings(log: Logger): EngineSettings {
  return { log, iceServers: [], publicIp: undefined, portRange: undefined, loopbackOnly: true };
}

/** The werift engine: pure TypeScript, runs everywhere (the default). */
export function createWeriftEngine(s: EngineSettings): WeriftEngine {
  return new WeriftEngine({
    log: s.log,
    iceServers: s.iceServers,
    publicIp: s.publicIp,
    portRange: s.portRange,
    loopbackOnly: s.loopbackOnly,
  });
}

/** The mediasoup engine: loads the optional package and starts its workers; throws when they cannot start. */
export async function startMediasoupEngine(s: MediasoupSettings): Promise<MediasoupEngine> {
  return MediasoupEngine.start({
    log: s.log,
    mediasoup: await loadMediasoup(),
    workerBin: s.workerBin,
    workers: s.workers,
    iceServers: s.iceServers,
    publicIp: s.publicIp,
    portRange: s.portRange,
    singlePort: s.singlePort,
    loopbackOnly: s.loopbackOnly,
  });
}

/** The werift engine with the configuration's ICE settings. */
export function weriftEngine(config: Config, log: Logger): WeriftEngine {
  return createWeriftEngine(engineSettings(config, log));
}

function engineSettings(config: Config, log: Logger): EngineSettings {
  return {
    log,
    iceServers: config.iceServers,
    publicIp: config.publicIp,
    portRange: config.rtcPortRange,
    loopbackOnly: config.loopbackOnlyIce,
  };
}

async function loadMediasoup(): Promise<MediasoupModule> {
  // Not a literal: mediasoup is optional, and its types are not needed to compile (mediasoup-api.ts).
  const specifier: string = 'mediasoup';
  const mod = (await import(specifier)) as MediasoupModule & { default?: MediasoupModule };
  return typeof mod.createWorker === 'function' ? mod : mod.default!;
}

/**
 * Throws a fatal MediaError (sfu_unavailable) when mediasoup was asked for
 * explicitly and cannot run: the server does not start.
 */
export async function startSfuEngine(config: Config, log: Logger): Promise<StartedEngine> {
  const sfuLog = log.child({ component: 'sfu' });
  const selection = selectEngine(config.sfu, probeMediasoup(config.mediasoupWorkerBin));
  if (selection.error !== undefined)
    throw new MediaError('sfu_unavailable', selection.error, { fatal: true });
  let started: StartedEngine;
  if (selection.engine === 'mediasoup') {
    try {
      const engine = await startMediasoupEngine({
        ...engineSettings(config, sfuLog),
        workerBin: probeMediasoup(config.mediasoupWorkerBin).workerBin!,
        workers: config.sfuWorkers,
        singlePort: config.rtcSinglePort,
      });
      started = { engine, reason: `${selection.reason}; ${config.sfuWorkers} worker(s)` };
    } catch (err) {
      if (config.sfu === 'mediasoup') {
        throw new MediaError(
          'sfu_unavailable',
          `the mediasoup worker did not start: ${(err as Error).message}`,
          {
            cause: err,
            fatal: true,
          },
        );
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
