/**
 * Programs and assets on the media side: a program's window in its channel's
 * output, the spans clips are cut from, assets kept as hard links with their
 * index, and what programs and assets play from. The live runtime is one;
 * it says which hub runs a channel.
 */
import { OnairError } from '../../lib/errors.ts';
import type { Config } from '../config.ts';
import type { KeptAsset, RecordedSpan, RecordingSource } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import type { ChildProcesses } from '../media/child-processes.ts';
import type { Recording } from '../packager/live-output.ts';
import type { AssetRecord, ProgramRecord, Store } from '../store/store.ts';
import { AssetLibrary } from './asset-library.ts';
import type { ChannelHub } from './channel-hub.ts';
import { Playables } from './playables.ts';

export interface RecordingDeskDeps {
  store: Store;
  config: Config;
  log: Logger;
  children: ChildProcesses;
  /** An asset's files grew (its download MP4 was made). */
  assetGrew?: (assetId: string, bytes: number) => void;
}

function span(r: Recording): RecordedSpan | undefined {
  return r.view.runs.length === 0
    ? undefined
    : { start: r.start, end: r.end, durationSeconds: r.durationSeconds, bytes: r.bytes };
}

export abstract class RecordingDesk {
  protected readonly library: AssetLibrary;
  /** What programs and assets play from, and who may watch them. */
  protected readonly playables: Playables;

  constructor(deps: RecordingDeskDeps) {
    this.library = new AssetLibrary({
      store: deps.store,
      mediaDir: deps.config.mediaDir,
      ffmpegPath: deps.config.ffmpegPath,
      children: deps.children,
      log: deps.log.child({ component: 'assets' }),
      ...(deps.assetGrew ? { onGrew: deps.assetGrew } : {}),
    });
    this.playables = new Playables({
      store: deps.store,
      library: this.library,
      hub: (channelId) => this.hubOf(channelId),
    });
  }

  /** The hub of a running channel. */
  protected abstract hubOf(channelId: string): ChannelHub | undefined;

  programStarted(program: ProgramRecord): void {
    const hub = this.hubOf(program.channelId);
    if (!hub) return;
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    hub.programs.start(program.id, started, program.archiveWindowMinutes * 60);
    this.playables.programStarted(program);
  }

  programSpan(program: ProgramRecord): RecordedSpan | undefined {
    const recording = this.hubOf(program.channelId)?.programs.recording(program.id);
    return recording ? span(recording) : undefined;
  }

  programStopped(program: ProgramRecord): void {
    this.hubOf(program.channelId)?.programs.stop(program.id);
    this.playables.programStopped(program);
  }

  async spanOf(source: RecordingSource, start: number, end: number): Promise<RecordedSpan | undefined> {
    const recording =
      source.kind === 'channel'
        ? this.hubOf(source.channelId)?.output.recording(start, end)
        : await this.library.recording(source.assetId, start, end);
    return recording ? span(recording) : undefined;
  }

  async keepAsset(asset: AssetRecord, source: RecordingSource): Promise<KeptAsset> {
    if (asset.rangeStart === null || asset.rangeEnd === null) {
      throw new OnairError('validation_failed', 'the asset has no range');
    }
    const start = Date.parse(asset.rangeStart);
    // The range ends where its last segment ends: take every segment that starts before.
    const end = Date.parse(asset.rangeEnd);
    if (source.kind === 'channel') {
      const output = this.hubOf(source.channelId)?.output;
      if (!output) throw new OnairError('channel_not_running', 'the channel is not running');
      const recording = output.recording(start, end);
      // Held from now: the program's window may go at once, its files may not.
      const release = output.hold(recording);
      return this.library.keep(asset, recording, output.liveDir).finally(release);
    }
    const recording = await this.library.recording(source.assetId, start, end);
    if (!recording || recording.view.runs.length === 0) {
      throw new OnairError('clip_out_of_range', 'nothing recorded in that range');
    }
    return this.library.keep(asset, recording, this.library.dir(source.assetId));
  }

  checkAsset(asset: AssetRecord): Promise<KeptAsset | undefined> {
    return this.library.check(asset);
  }

  assetChanged(asset: AssetRecord): void {
    this.library.invalidate(asset.id);
  }

  deleteAsset(assetId: string): Promise<void> {
    this.playables.assetDeleted(assetId);
    return this.library.delete(assetId);
  }

  sweepAssets(known: readonly string[]): Promise<void> {
    return this.library.sweep(known);
  }
}
