/**
 * The three playback sources the origin serves, over a channel's live output
 * or an asset: the live window, a running program's DVR window, an asset on
 * demand. Each is a view of a timeline; no media is copied.
 */
import { existsSync } from 'node:fs';
import type { PlaybackKind, PlaybackSource } from './playback.ts';
import { viewTracks } from './playback.ts';
import { longestSegmentSeconds, type TimelineView, type TrackInfo } from '../packager/timeline.ts';
import { recordingOf, type LiveOutput } from '../packager/live-output.ts';
import type { ProgramWindows } from '../packager/program-windows.ts';
import { partSecondsFor } from '../media/part-length.ts';

/** A running channel's output as playback reads it (the channel hub is one). */
export interface ChannelOutput {
  readonly channelId: string;
  readonly output: LiveOutput;
  readonly programs: ProgramWindows;
  readonly config: { readonly latency: 'low' | 'standard'; readonly segmentSeconds: number };
  thumbnailPath(): string | undefined;
}

/** A kept asset as playback reads it. */
export interface VodMedia {
  id: string;
  name: string;
  dir: string;
  view: TimelineView;
  /** The poster file's path (it may not exist). */
  poster: string;
  /** Makes (once) and finds the asset's MP4 download. */
  download(): Promise<string>;
}

const ALL = Number.MAX_SAFE_INTEGER;

abstract class OutputPlayback implements PlaybackSource {
  abstract readonly kind: PlaybackKind;
  protected readonly channel: ChannelOutput;

  constructor(channel: ChannelOutput) {
    this.channel = channel;
  }

  #memo: { key: string; view: TimelineView } | undefined;

  /**
   * The window, computed once per timeline change (every request of a playlist, part or segment
   * asks for it; a DVR window holds hours of segments). Callers must not change it.
   */
  view(): TimelineView {
    const key = `${String(this.version)}|${this.windowKey()}`;
    if (this.#memo?.key !== key) this.#memo = { key, view: this.computeView() };
    return this.#memo.view;
  }
  protected abstract computeView(): TimelineView;
  /** What else than the timeline's version the window depends on. */
  protected windowKey(): string {
    return '';
  }
  abstract readonly timeShiftBufferDepthSeconds: number;
  abstract readonly cacheKey: string;

  get version(): number {
    return this.channel.output.timeline.version;
  }
  get lowLatency(): boolean {
    return this.channel.config.latency === 'low';
  }
  get partSeconds(): number {
    return partSecondsFor(this.segmentSeconds);
  }
  waitForChange(timeoutMs: number): Promise<boolean> {
    return this.channel.output.timeline.waitForChange(timeoutMs);
  }

  get dir(): string {
    return this.channel.output.liveDir;
  }
  get segmentSeconds(): number {
    return this.channel.config.segmentSeconds;
  }
  tracks(): TrackInfo[] {
    return this.channel.output.timeline.latestTracks();
  }
  get expectedTracks(): number {
    return this.channel.output.expectedTracks;
  }
  get currentRunId(): string | undefined {
    return this.channel.output.timeline.latestRun()?.id;
  }
  get ended(): boolean {
    // A publisher that left is not the end: players keep polling until it is back.
    return this.channel.output.ended;
  }
  get availabilityStartTime(): number {
    return this.channel.output.startedAt;
  }
  picture(): string | undefined {
    return this.channel.thumbnailPath();
  }
}

/** The channel's live window: the last N segments. */
export class LivePlayback extends OutputPlayback {
  readonly kind = 'live' as const;
  readonly #windowSegments: number;

  constructor(channel: ChannelOutput, windowSegments: number) {
    super(channel);
    this.#windowSegments = windowSegments;
  }

  get cacheKey(): string {
    // The latency setting changes what is rendered from the same timeline.
    return `live/${this.channel.channelId}/${this.channel.config.latency}`;
  }

  protected computeView(): TimelineView {
    return this.channel.output.timeline.window({ maxSegments: this.#windowSegments });
  }

  get timeShiftBufferDepthSeconds(): number {
    return this.#windowSegments * this.segmentSeconds;
  }
}

/** A running program's DVR window: everything since it started, at most its archive window. */
export class DvrPlayback extends OutputPlayback {
  readonly kind = 'dvr' as const;
  // Its token may be for this program only: the rest of the channel's folder is not its to serve.
  readonly confined = true;
  readonly #programId: string;

  constructor(channel: ChannelOutput, programId: string) {
    super(channel);
    this.#programId = programId;
  }

  get cacheKey(): string {
    return `dvr/${this.#programId}/${this.channel.config.latency}`;
  }

  /** The window's start slides with the clock once the archive window is full: recomputed each second. */
  protected override windowKey(): string {
    const since = this.channel.programs.since(this.#programId);
    return since === undefined ? '-' : String(Math.floor(since / 1000));
  }

  protected computeView(): TimelineView {
    const since = this.channel.programs.since(this.#programId);
    if (since === undefined) return { runs: [] };
    return this.channel.output.timeline.window({ maxSegments: ALL, since });
  }

  get timeShiftBufferDepthSeconds(): number {
    return this.channel.output.window(this.#programId)?.seconds ?? this.segmentSeconds * 3;
  }
}

/** An asset on demand. */
export class VodPlayback implements PlaybackSource {
  readonly kind = 'vod' as const;
  readonly ended = true;
  readonly expectedTracks = 0;
  readonly currentRunId = undefined;
  readonly version = 0;
  readonly lowLatency = false;
  readonly partSeconds = 0.5;
  readonly #media: VodMedia;
  readonly #start: number;
  readonly #duration: number;
  readonly #segmentSeconds: number;

  constructor(media: VodMedia) {
    this.#media = media;
    const r = recordingOf(media.view);
    this.#start = r.start;
    this.#duration = r.durationSeconds;
    this.#segmentSeconds = Math.round(Math.max(1, longestSegmentSeconds(media.view)));
  }

  get dir(): string {
    return this.#media.dir;
  }
  get cacheKey(): string {
    return `vod/${this.#media.id}`;
  }
  get segmentSeconds(): number {
    return this.#segmentSeconds;
  }
  view(): TimelineView {
    return this.#media.view;
  }
  tracks(): TrackInfo[] {
    return viewTracks(this.#media.view);
  }
  get availabilityStartTime(): number {
    return this.#start;
  }
  get timeShiftBufferDepthSeconds(): number {
    return this.#duration;
  }
  picture(): string | undefined {
    return existsSync(this.#media.poster) ? this.#media.poster : undefined;
  }
  async download(): Promise<{ path: string; filename: string }> {
    const file = await this.#media.download();
    return { path: file, filename: `${this.#media.name || this.#media.id}.mp4` };
  }
}
