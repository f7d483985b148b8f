/**
 * What the control plane needs from the media side. The live runtime (WHIP,
 * SFU, FFmpeg, packager) implements it; tests of the state rules use `IdleRuntime`.
 *
 * The runtime gets a channel's settings as an immutable snapshot when the
 * channel starts, and a new snapshot whenever they change: nothing on the media
 * side reads or shares the control plane's rows.
 */
import type { LadderName } from '../../lib/ladders.ts';
import type { ChannelMode, FailbackMode, LatencyMode, PlaybackMode } from '../../lib/schemas.ts';
import type { AssetRecord, ChannelRecord, ProgramRecord } from '../store/store.ts';

/** A span of recorded media: program time (epoch ms) from the first segment's start to the last one's end. */
export interface RecordedSpan {
  start: number;
  end: number;
  durationSeconds: number;
  bytes: number;
}

/** Where an asset's media comes from: a running channel's output, or another asset. */
export type RecordingSource = { kind: 'channel'; channelId: string } | { kind: 'asset'; assetId: string };

/** What an asset holds once kept. */
export interface KeptAsset {
  durationSeconds: number;
  bytes: number;
}

/** A running channel's settings: a frozen copy, replaced as a whole, never mutated. */
export interface ChannelConfig {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly mode: ChannelMode;
  readonly ladder: LadderName;
  readonly segmentSeconds: number;
  readonly streamKey: string;
  readonly ingest: readonly string[];
  readonly preview: readonly string[];
  readonly playback: PlaybackMode;
  readonly latency: LatencyMode;
  readonly srtLatencyMs: number;
  readonly srtPort: number | null;
  readonly srtBackupPort: number | null;
  readonly failoverAfterMs: number;
  readonly slateAfterMs: number;
  readonly failback: FailbackMode;
}

export function channelConfig(c: ChannelRecord): ChannelConfig {
  return Object.freeze({
    id: c.id,
    name: c.name,
    description: c.description,
    mode: c.mode,
    ladder: c.ladder,
    segmentSeconds: c.segmentSeconds,
    streamKey: c.streamKey,
    ingest: Object.freeze([...c.ingest]),
    preview: Object.freeze([...c.preview]),
    failoverAfterMs: c.failoverAfterMs,
    slateAfterMs: c.slateAfterMs,
    failback: c.failback,
    playback: c.playback,
    latency: c.latency,
    srtLatencyMs: c.srtLatencyMs,
    srtPort: c.srtPort,
    srtBackupPort: c.srtBackupPort,
  });
}

export interface ChannelRuntime {
  /** Prepares the channel to accept a publisher. Resolves when ready. */
  startChannel(config: ChannelConfig): Promise<void>;
  /** Ends every session and process of the channel. Idempotent. */
  stopChannel(channelId: string): Promise<void>;
  /** Disconnects the publisher and clears runtime state (the key was rotated). */
  resetChannel(config: ChannelConfig): Promise<void>;
  /** Drops the media of a deleted channel (assets keep their own). */
  deleteChannel(channelId: string): Promise<void>;
  /** The channel's settings changed (not mode, ladder or segment length while running). */
  updateChannel(config: ChannelConfig): void;
  isLive(channelId: string): boolean;
  /** Bytes on disk for the channel's live window and running programs. */
  channelBytes(channelId: string): Promise<number>;
  /** A program runs (started now, or still running after a restart): keep its window. */
  programStarted(program: ProgramRecord): void;
  /** What a running program's window holds now; undefined when its channel has no output. */
  programSpan(program: ProgramRecord): RecordedSpan | undefined;
  /** The program stopped: its window is no longer kept (its asset has taken what it needs). */
  programStopped(program: ProgramRecord): void;
  /** What [start, end) of a source holds (segment-accurate: segments that start in it). */
  spanOf(source: RecordingSource, start: number, end: number): Promise<RecordedSpan | undefined>;
  /**
   * Keeps [asset.rangeStart, asset.rangeEnd) of `source` as the asset's media
   * (its own index, links to the segment files, a poster). The span is held
   * from this call on; resolves once the asset plays.
   */
  keepAsset(asset: AssetRecord, source: RecordingSource): Promise<KeptAsset>;
  /** After a restart: whether an asset that was being kept is complete. */
  checkAsset(asset: AssetRecord): Promise<KeptAsset | undefined>;
  /** An asset's name or publishing changed. */
  assetChanged(asset: AssetRecord): void;
  /** Removes an asset's media. Idempotent. */
  deleteAsset(assetId: string): Promise<void>;
  /** After a restart: media of assets that no longer exist is removed. */
  sweepAssets(known: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** A runtime with no media: channels start at once, nothing is ever live, nothing is recorded. */
export class IdleRuntime implements ChannelRuntime {
  startChannel(): Promise<void> {
    return Promise.resolve();
  }
  stopChannel(): Promise<void> {
    return Promise.resolve();
  }
  resetChannel(): Promise<void> {
    return Promise.resolve();
  }
  deleteChannel(): Promise<void> {
    return Promise.resolve();
  }
  updateChannel(): void {}
  isLive(): boolean {
    return false;
  }
  channelBytes(): Promise<number> {
    return Promise.resolve(0);
  }
  programStarted(): void {}
  programSpan(): RecordedSpan | undefined {
    return undefined;
  }
  programStopped(): void {}
  spanOf(): Promise<RecordedSpan | undefined> {
    return Promise.resolve(undefined);
  }
  keepAsset(asset: AssetRecord): Promise<KeptAsset> {
    return Promise.resolve({ durationSeconds: asset.durationSeconds, bytes: 0 });
  }
  checkAsset(asset: AssetRecord): Promise<KeptAsset | undefined> {
    return Promise.resolve({ durationSeconds: asset.durationSeconds, bytes: 0 });
  }
  assetChanged(): void {}
  deleteAsset(): Promise<void> {
    return Promise.resolve();
  }
  sweepAssets(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
