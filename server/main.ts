/** Entry point: read config once, start onair, stop it cleanly on SIGINT/SIGTERM. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { createOnair } from './app.ts';
import { DataDirLockedError, lockDataDir, secureDataDir } from './core/data-dir.ts';
import { MediaError } from './media/errors.ts';
import { createLiveRuntime } from './live/live-runtime.ts';
import { ChildProcesses, type ChildInfo } from './media/child-processes.ts';
import { startSfuEngine, type StartedEngine } from './sfu/start-engine.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`onair: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

// One server per data folder: two would both restart the same channels.
let lock;
try {
  secureDataDir(config.dataDir);
  lock = lockDataDir(config.dataDir);
} catch (err) {
  process.stderr.write(`onair: ${err instanceof DataDirLockedError ? err.message : String(err)}\n`);
  process.exit(1);
}
const dataDirLock = lock;

const log = createLogger(config.logLevel);
/** Every child process onair starts (encoders, remuxers, SRT listeners, slates, jobs): one owner. */
const children = new ChildProcesses();
let sfu: StartedEngine;
try {
  sfu = await startSfuEngine(config, log);
} catch (err) {
  if (err instanceof MediaError && err.fatal) {
    process.stderr.write(`onair: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const onair = await createOnair({
  config,
  log,
  runtime: (deps) => createLiveRuntime({ ...deps, children, engine: sfu.engine, engineReason: sfu.reason }),
  // Next.js loads only when the UI is on: API-only starts stay fast.
  ui: config.ui
    ? async (l) =>
        (await import('./ui/next-handler.ts')).createUiHandler({ dir: root, dev: config.dev, log: l })
    : undefined,
});
log.info({ url: onair.url, dataDir: config.dataDir }, `onair listening on ${onair.url}`);

/** What a log line says of children still running. */
const running = (list: ChildInfo[]) => list.map(({ pid, kind, channelId }) => ({ pid, kind, channelId }));

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // FFmpeg needs a few seconds to finish its last segments; past this, nothing is left behind.
  const timer = setTimeout(() => {
    log.error({ children: running(children.killAll()) }, 'shutdown took over 20 s; exiting');
    process.exit(1);
  }, 20_000);
  timer.unref();
  onair.close().then(
    () => {
      const left = children.killAll();
      if (left.length > 0) log.warn({ children: running(left) }, 'child processes left at shutdown killed');
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
// Whatever still runs when onair exits (a forced exit, a crash) goes with it.
process.on('exit', () => {
  children.killAll();
  dataDirLock.release();
});
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
