/**
 * The three playback sources the origin serves, over a channel's live output
 * or an asset: the live window, a running program's DVR window, an asset on
 * demand. Each is a view of a timeline; no media is copied.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PlaybackKind, PlaybackSource } from '../origin/playback.ts';
import { viewTracks } from '../origin/playback.ts';
import { longestSegmentSeconds, type TimelineView, type TrackInfo } from '../packager/timeline.ts';
import type { AssetLibrary, AssetMedia } from './asset-library.ts';
import { POSTER } from './asset-library.ts';
import type { ChannelHub } from './channel-hub.ts';
import { recordingOf } from '../packager/live-output.ts';
import { partSecondsFor } from '../media/part-length.ts';

const ALL = Number.MAX_SAFE_INTEGER;

abstract class OutputPlayback implements PlaybackSource {
  abstract readonly kind: PlaybackKind;
  protected readonly hub: ChannelHub;

  constructor(hub: ChannelHub) {
    this.hub = hub;
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
    return this.hub.output.timeline.version;
  }
  get lowLatency(): boolean {
    return this.hub.config.latency === 'low';
  }
  get partSeconds(): number {
    return partSecondsFor(this.segmentSeconds);
  }
  waitForChange(timeoutMs: number): Promise<boolean> {
    return this.hub.output.timeline.waitForChange(timeoutMs);
  }

  get dir(): string {
    return this.hub.output.liveDir;
  }
  get segmentSeconds(): number {
    return this.hub.config.segmentSeconds;
  }
  tracks(): TrackInfo[] {
    return this.hub.output.timeline.latestTracks();
  }
  get expectedTracks(): number {
    return this.hub.output.expectedTracks;
  }
  get currentRunId(): string | undefined {
    return this.hub.output.timeline.latestRun()?.id;
  }
  get ended(): boolean {
    // A publisher that left is not the end: players keep polling until it is back.
    return this.hub.output.ended;
  }
  get availabilityStartTime(): number {
    return this.hub.output.startedAt;
  }
  picture(): string | undefined {
    return this.hub.thumbnailPath();
  }
}

/** The channel's live window: the last N segments. */
export class LivePlayback extends OutputPlayback {
  readonly kind = 'live' as const;
  readonly #windowSegments: number;

  constructor(hub: ChannelHub, windowSegments: number) {
    super(hub);
    this.#windowSegments = windowSegments;
  }

  get cacheKey(): string {
    // The latency setting changes what is rendered from the same timeline.
    return `live/${this.hub.channelId}/${this.hub.config.latency}`;
  }

  protected computeView(): TimelineView {
    return this.hub.output.timeline.window({ maxSegments: this.#windowSegments });
  }

  get timeShiftBufferDepthSeconds(): number {
    return this.#windowSegments * this.segmentSeconds;
  }
}

/** A running program's DVR window: everything since it started, at most its archive window. */
export class DvrPlayback extends OutputPlayback {
  readonly kind = 'dvr' as const;
  readonly #programId: string;

  constructor(hub: ChannelHub, programId: string) {
    super(hub);
    this.#programId = programId;
  }

  get cacheKey(): string {
    return `dvr/${this.#programId}/${this.hub.config.latency}`;
  }

  /** The window's start slides with the clock once the archive window is full: recomputed each second. */
  protected override windowKey(): string {
    const since = this.hub.programSince(this.#programId);
    return since === undefined ? '-' : String(Math.floor(since / 1000));
  }

  protected computeView(): TimelineView {
    const since = this.hub.programSince(this.#programId);
    if (since === undefined) return { runs: [] };
    return this.hub.output.timeline.window({ maxSegments: ALL, since });
  }

  get timeShiftBufferDepthSeconds(): number {
    return this.hub.output.window(this.#programId)?.seconds ?? this.segmentSeconds * 3;
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
  readonly #media: AssetMedia;
  readonly #library: AssetLibrary;
  readonly #start: number;
  readonly #duration: number;
  readonly #segmentSeconds: number;

  constructor(media: AssetMedia, library: AssetLibrary) {
    this.#media = media;
    this.#library = library;
    const r = recordingOf(media.view);
    this.#start = r.start;
    this.#duration = r.durationSeconds;
    this.#segmentSeconds = Math.round(Math.max(1, longestSegmentSeconds(media.view)));
  }

  get dir(): string {
    return this.#media.dir;
  }
  get cacheKey(): string {
    return `vod/${this.#media.record.id}`;
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
    const file = path.join(this.#media.dir, POSTER);
    return existsSync(file) ? file : undefined;
  }
  async download(): Promise<{ path: string; filename: string }> {
    const file = await this.#library.download(this.#media.record.id);
    return { path: file, filename: `${this.#media.record.name || this.#media.record.id}.mp4` };
  }
}
