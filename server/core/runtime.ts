/**
 * What the control plane needs from the media side. The live pipeline (WHIP,
 * SFU, FFmpeg, packager) implements it; tests of the state rules use `IdleRuntime`.
 */
import type { ChannelRecord, ProgramRecord } from '../store/store.ts';

export interface RecordingSummary {
  durationSeconds: number;
  bytes: number;
}

export interface ChannelRuntime {
  /** Prepares the channel to accept a publisher. Resolves when ready. */
  startChannel(channel: ChannelRecord): Promise<void>;
  /** Ends every session and process of the channel. Idempotent. */
  stopChannel(channelId: string): Promise<void>;
  /** Disconnects the publisher and clears runtime state (the key was rotated). */
  resetChannel(channel: ChannelRecord): Promise<void>;
  /** Drops media files of a deleted channel. */
  deleteChannel(channelId: string): Promise<void>;
  /** The channel's settings changed (not mode or ladder while running). */
  updateChannel(channel: ChannelRecord): void;
  isLive(channelId: string): boolean;
  programStarted(program: ProgramRecord): void;
  /** The program stopped; keeps what it recorded as asset `assetId` and returns its size. */
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
