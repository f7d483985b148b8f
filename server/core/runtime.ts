/**
 * What the control plane needs from the media side. The live runtime (WHIP,
 * SFU, FFmpeg, packager) implements it; tests of the state rules use `IdleRuntime`.
 *
 * The runtime gets a channel's settings as an immutable snapshot when the
 * channel starts, and a new snapshot whenever they change: nothing on the media
 * side reads or shares the control plane's rows.
 */
import type { LadderName } from '../../lib/ladders.ts';
import type { ChannelMode, PlaybackMode } from '../../lib/schemas.ts';
import type { ChannelRecord, ProgramRecord } from '../store/store.ts';

export interface RecordingSummary {
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
    playback: c.playback,
  });
}

export interface ChannelRuntime {
  /** Prepares the channel to accept a publisher. Resolves when ready. */
  startChannel(config: ChannelConfig): Promise<void>;
  /** Ends every session and process of the channel. Idempotent. */
  stopChannel(channelId: string): Promise<void>;
  /** Disconnects the publisher and clears runtime state (the key was rotated). */
  resetChannel(config: ChannelConfig): Promise<void>;
  /** Drops media files of a deleted channel. */
  deleteChannel(channelId: string): Promise<void>;
  /** The channel's settings changed (not mode, ladder or segment length while running). */
  updateChannel(config: ChannelConfig): void;
  isLive(channelId: string): boolean;
  /** A program runs (started now, or still running after a restart): keep its window. */
  programStarted(program: ProgramRecord): void;
  /**
   * The program stopped; keeps what it recorded as asset `assetId` and returns
   * its size at once (files are archived in the background).
   */
  programStopped(program: ProgramRecord, assetId: string): RecordingSummary;
  /** Removes an asset's media. Idempotent. */
  deleteAsset(assetId: string): Promise<void>;
  close(): Promise<void>;
}

/** A runtime with no media: channels start at once and nothing is ever live. */
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
  programStarted(): void {}
  deleteAsset(): Promise<void> {
    return Promise.resolve();
  }
  programStopped(program: ProgramRecord): RecordingSummary {
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    return { durationSeconds: Math.max(0, (Date.now() - started) / 1000), bytes: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
