/**
 * Keeps a channel's encoder running while it has an input, the way mediamtx's
 * externalcmd supervises a command: start a run, notice when it dies, start it
 * again after a backoff (1 s … 30 s), stop it on request. Runs are strictly one
 * after the other: a run's end hook (indexing its last segments) completes
 * before the next run starts.
 */
import type { Ladder } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { SourceDescription } from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import {
  FfmpegRun,
  type EncoderProgress,
  type FfmpegRunOptions,
  type InputLink,
  type RtpInputEndpoint,
  type RunExit,
  type RunTrack,
} from './ffmpeg-run.ts';

export interface EncoderSettings {
  ladder: Ladder;
  mode: ChannelMode;
  segmentSeconds: number;
}

/** What a run reads: the source's tracks, and how to connect the source to FFmpeg's ports. */
export interface EncoderInput {
  description: SourceDescription;
  connect: (endpoint: RtpInputEndpoint) => InputLink;
}

/** A run as the rest of the channel sees it. */
export interface EncoderRunInfo {
  runId: string;
  runDir: string;
  tracks: readonly RunTrack[];
  startedAt: number;
}

export interface EncoderHooks {
  /** A run is writing; called before anything else hears of it. */
  runStarted(run: EncoderRunInfo): void;
  /** The run's process has exited; awaited before another run starts. */
  runEnded(run: EncoderRunInfo, exit: RunExit): Promise<void>;
}

export interface EncoderEvents {
  started: [run: EncoderRunInfo];
  /** Stopped on request (no input any more, or the channel stops). */
  stopped: [run: EncoderRunInfo];
  /** A run could not start, or exited by itself. */
  failed: [message: string];
  restarting: [attempt: number, delayMs: number];
}

/** The encoder as the channel hub uses it; tests drive the hub with a fake one. */
export interface Encoder {
  readonly running: boolean;
  readonly progress: EncoderProgress | undefined;
  readonly tracks: readonly RunTrack[];
  readonly restarts: number;
  /** Run with this input (a run on a previous input is stopped first). */
  start(input: EncoderInput, settings: EncoderSettings): void;
  /** No input any more: stop the run and any pending restart. Resolves once it has ended. */
  stop(): Promise<void>;
  /** Stops for good. Idempotent. */
  close(): Promise<void>;
  on<E extends keyof EncoderEvents>(event: E, listener: (...args: EncoderEvents[E]) => void): void;
}

/** The process behind a run; FfmpegRun, or a stand-in in tests. */
export interface SupervisedRun {
  readonly runId: string;
  readonly runDir: string;
  readonly tracks: RunTrack[];
  readonly startedAt: number;
  readonly progress: EncoderProgress;
  readonly running: boolean;
  stop(): Promise<RunExit>;
}

export interface SupervisorOptions {
  ffmpegPath: string;
  liveDir: string;
  log: Logger;
  /** Owns every run's FFmpeg process. */
  children: ChildRegistry;
  hooks: EncoderHooks;
  /** Delays between restarts; the last one repeats. */
  backoffMs?: readonly number[];
  /** A run that lived this long resets the backoff. */
  stableAfterMs?: number;
  /** Starts one run (FfmpegRun.start by default). */
  startRun?: (opts: FfmpegRunOptions) => Promise<SupervisedRun>;
}

export const RESTART_BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000] as const;

export class EncoderSupervisor implements Encoder {
  readonly #opts: SupervisorOptions;
  readonly #events: TypedEmitter<EncoderEvents>;
  readonly #startRun: (opts: FfmpegRunOptions) => Promise<SupervisedRun>;
  #wanted: { input: EncoderInput; settings: EncoderSettings } | undefined;
  #run: SupervisedRun | undefined;
  #info: EncoderRunInfo | undefined;
  #queue: Promise<void> = Promise.resolve();
  #restartTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #restarts = 0;
  #runCounter = 0;
  #closed = false;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'encoder listener failed'));
    this.#startRun = opts.startRun ?? ((o) => FfmpegRun.start(o));
  }

  get running(): boolean {
    return this.#run?.running ?? false;
  }

  get progress(): EncoderProgress | undefined {
    return this.#run?.progress;
  }

  get tracks(): readonly RunTrack[] {
    return this.#run?.tracks ?? [];
  }

  get restarts(): number {
    return this.#restarts;
  }

  on<E extends keyof EncoderEvents>(event: E, listener: (...args: EncoderEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  start(input: EncoderInput, settings: EncoderSettings): void {
    if (this.#closed) return;
    this.#wanted = { input, settings };
    this.#attempt = 0;
    this.#clearRestart();
    void this.#enqueue(async () => {
      await this.#stopRun();
      await this.#spawn();
    });
  }

  stop(): Promise<void> {
    this.#wanted = undefined;
    this.#clearRestart();
    return this.#enqueue(() => this.#stopRun());
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#queue;
    await this.stop();
    this.#closed = true;
    this.#events.removeAll();
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(step).catch((err: unknown) => {
      this.#opts.log.error({ err }, 'encoder step failed');
    });
    return this.#queue;
  }

  #clearRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  async #spawn(): Promise<void> {
    const wanted = this.#wanted;
    if (!wanted || this.#closed || this.#run) return;
    const runId = `r${Date.now().toString(36)}${(this.#runCounter++).toString(36)}`;
    let run: SupervisedRun;
    try {
      run = await this.#startRun({
        ffmpegPath: this.#opts.ffmpegPath,
        ladder: wanted.settings.ladder,
        mode: wanted.settings.mode,
        segmentSeconds: wanted.settings.segmentSeconds,
        liveDir: this.#opts.liveDir,
        runId,
        input: wanted.input.description,
        connect: wanted.input.connect,
        log: this.#opts.log,
        children: this.#opts.children,
        onExit: (exit) => {
          if (exit.expected) return;
          void this.#enqueue(() => this.#exited(run, exit));
        },
      });
    } catch (err) {
      this.#events.emit('failed', `encoder failed to start: ${(err as Error).message}`);
      this.#scheduleRestart(wanted);
      return;
    }
    // The input went away (or changed) while FFmpeg was starting.
    if (this.#wanted !== wanted || this.#closed) {
      await run.stop();
      return;
    }
    this.#run = run;
    const info: EncoderRunInfo = {
      runId: run.runId,
      runDir: run.runDir,
      tracks: run.tracks,
      startedAt: run.startedAt,
    };
    this.#info = info;
    this.#opts.hooks.runStarted(info);
    this.#events.emit('started', info);
  }

  /** A run ended by itself (FFmpeg crashed or its input timed out). */
  async #exited(run: SupervisedRun, exit: RunExit): Promise<void> {
    if (this.#run !== run) return;
    const info = this.#info!;
    this.#run = undefined;
    this.#info = undefined;
    await this.#opts.hooks.runEnded(info, exit);
    this.#events.emit(
      'failed',
      `encoder exited unexpectedly (code ${exit.code ?? exit.signal}): ${exit.stderrTail || 'no output'}`,
    );
    if (Date.now() - info.startedAt >= (this.#opts.stableAfterMs ?? 30_000)) this.#attempt = 0;
    if (this.#wanted) this.#scheduleRestart(this.#wanted);
  }

  #scheduleRestart(wanted: { input: EncoderInput; settings: EncoderSettings }): void {
    if (this.#closed || this.#wanted !== wanted || this.#restartTimer) return;
    const backoff = this.#opts.backoffMs ?? RESTART_BACKOFF_MS;
    const delay = backoff[Math.min(this.#attempt, backoff.length - 1)] ?? 1000;
    this.#attempt++;
    this.#events.emit('restarting', this.#attempt, delay);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#wanted !== wanted) return;
      this.#restarts++;
      void this.#enqueue(() => this.#spawn());
    }, delay);
  }

  async #stopRun(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    const info = this.#info!;
    this.#run = undefined;
    this.#info = undefined;
    const exit = await run.stop();
    await this.#opts.hooks.runEnded(info, exit);
    this.#events.emit('stopped', info);
  }
}
