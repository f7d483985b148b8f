/**
 * The media runtime: one ChannelHub per running channel, the SFU engine, the
 * asset library, and the media endpoints (/whip, /whep, /live, /programs, /vod,
 * /time). Implements what the control plane needs (ChannelRuntime) and what
 * the HTTP server mounts.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import { OFFLINE_STATS, type ChannelLiveStats } from '../../lib/stats.ts';
import type { Config } from '../config.ts';
import type { ChannelConfig, ChannelRuntime } from '../core/runtime.ts';
import { isAllowed } from '../http/allow-list.ts';
import { secretEquals } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import type { RtmpChannelIngest } from '../ingest/rtmp-ingest.ts';
import { startRtmpListener } from '../ingest/ingest-listeners.ts';
import type { RtmpServer } from '../ingest/rtmp-server.ts';
import type { Logger } from '../log.ts';
import type { ChildProcesses } from '../media/child-processes.ts';
import { channelMetrics } from '../observability/channel-metrics.ts';
import type { Sample } from '../observability/metrics.ts';
import type { SfuEngine } from '../sfu/engine.ts';
import { weriftEngine } from '../sfu/start-engine.ts';
import { SlateImages } from '../store/slate-images.ts';
import type { Store } from '../store/store.ts';
import type { ChannelHub } from './channel-hub.ts';
import { RecordingDesk } from './recording-desk.ts';
import type { InputName } from '../source/failover-source.ts';
import { FileCache } from '../origin/file-cache.ts';
import { Renderings } from '../origin/renderings.ts';
import { mediaMounts, type CheckPlayback } from './media-mounts.ts';
import { openRunningChannel, srtListeners, type RunningChannel } from './running-channel.ts';

export interface LiveRuntimeDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** The owner of every child process (made at start-up). */
  children: ChildProcesses;
  event: (channelId: string, type: ChannelEventType, message: string) => void;
  /** An asset's files grew (its download MP4 was made). */
  assetGrew?: (assetId: string, bytes: number) => void;
  engine?: SfuEngine;
  /** Why `engine` runs (engine selection), for /healthz. */
  engineReason?: string;
  /** Checks playback tokens for channels whose playback is `token`. */
  verifyPlayback?: CheckPlayback;
}

/** What the HTTP server needs beyond the control plane's runtime: endpoints and figures. */
export interface MediaRuntime extends ChannelRuntime {
  mounts(): MediaMount[];
  stats(channelId: string): ChannelLiveStats;
  metrics(): Sample[];
  /** Redundant ingest: an operator's switch, and the channel's slate picture. */
  switchInput(channelId: string, to?: IngestRole): InputName;
  slateImage(channelId: string): string;
  setSlateImage(channelId: string, image: Buffer): Promise<void>;
  deleteSlateImage(channelId: string): Promise<void>;
  /** Details for /healthz: which SFU engine runs, and why. */
  health(): Record<string, unknown>;
  /** The playback secret was rotated: WebRTC viewers admitted with a token it signed end. */
  playbackSecretRotated(): void;
}

export class LiveRuntime extends RecordingDesk implements MediaRuntime {
  readonly #deps: LiveRuntimeDeps;
  readonly #engine: SfuEngine;
  readonly #channels = new Map<string, RunningChannel>();
  /** Channels starting (their output recovering after a restart). */
  readonly #starting = new Map<string, Promise<void>>();
  /** Hot segments and parts of every channel, program and asset (the origin's memory). */
  readonly #originCache: FileCache;
  /** Playlists and MPDs of every channel, program and asset, rendered once per timeline change. */
  readonly #renderings = new Renderings();
  /** The RTMP/RTMPS listener every channel shares (none when both are off). */
  readonly #rtmpServer: RtmpServer | undefined;
  readonly #rtmpListening: Promise<void>;
  readonly #slates: SlateImages;
  #closed = false;

  constructor(deps: LiveRuntimeDeps) {
    super(deps);
    this.#deps = deps;
    this.#slates = new SlateImages(deps.config.dataDir);
    // A part or a segment larger than this is streamed from disk each time.
    this.#originCache = new FileCache({
      maxBytes: deps.config.originCacheBytes,
      maxItemBytes: 16 * 1024 * 1024,
    });
    this.#engine = deps.engine ?? weriftEngine(deps.config, deps.log.child({ component: 'sfu' }));
    const rtmp = startRtmpListener(deps.config, deps.log, (key, address) => this.#rtmpChannel(key, address));
    this.#rtmpServer = rtmp.server;
    this.#rtmpListening = rtmp.listening;
  }

  /** The RTMP side of the running channel whose key is `key` (checked in constant time). */
  async #rtmpChannel(key: string, address: string): Promise<RtmpChannelIngest> {
    for (const running of this.#channels.values()) {
      const c = running.hub.config;
      if (!secretEquals(key, c.streamKey)) continue;
      if (!isAllowed(c.ingest, address))
        throw new OnairError('forbidden', "your address is not in the channel's ingest allow-list");
      return running.rtmp;
    }
    if ((await this.#deps.store.channels.all()).some((c) => secretEquals(key, c.streamKey))) {
      throw new OnairError('channel_not_running', 'the channel is not running');
    }
    throw new OnairError('unauthorized', 'wrong stream key');
  }

  /** Resolves once the RTMP listener is up (or has failed to start). */
  rtmpReady(): Promise<void> {
    return this.#rtmpListening;
  }

  health(): Record<string, unknown> {
    const e = this.#engine as SfuEngine & { workers?: { pid: number }[]; workerDeaths?: number };
    return {
      sfu: {
        engine: this.#engine.name,
        reason: this.#deps.engineReason ?? (this.#deps.engine ? 'given' : 'default'),
        ...(e.workers ? { workers: e.workers.length, workerDeaths: e.workerDeaths ?? 0 } : {}),
      },
    };
  }

  startChannel(config: ChannelConfig): Promise<void> {
    if (this.#channels.has(config.id)) return Promise.resolve();
    if (this.#closed) return Promise.reject(new OnairError('unavailable', 'the server is shutting down'));
    let starting = this.#starting.get(config.id);
    if (!starting) {
      starting = this.#start(config).finally(() => this.#starting.delete(config.id));
      this.#starting.set(config.id, starting);
    }
    return starting;
  }

  async #start(config: ChannelConfig): Promise<void> {
    const running = await openRunningChannel(config, {
      store: this.#deps.store,
      config: this.#deps.config,
      log: this.#deps.log,
      children: this.#deps.children.forChannel(config.id),
      engine: this.#engine,
      event: (type, message) => this.#deps.event(config.id, type, message),
      slateImage: () => this.slateImage(config.id),
    });
    this.#channels.set(config.id, running);
  }

  async stopChannel(channelId: string): Promise<void> {
    await this.#starting.get(channelId)?.catch(() => undefined);
    const running = this.#channels.get(channelId);
    if (!running) return;
    running.rtmp.close();
    await Promise.all(running.srt.map((s) => s.close()));
    await running.hub.close();
    await running.journal.close();
    this.#channels.delete(channelId);
    this.playables.channelStopped(channelId);
  }

  async resetChannel(config: ChannelConfig): Promise<void> {
    const running = this.#channels.get(config.id);
    if (!running) return;
    // The old key opens nothing any more: the SRT listener restarts with the new passphrase.
    await Promise.all(running.srt.map((s) => s.close()));
    running.srt = [];
    await running.hub.reset(config);
    running.srt = srtListeners(
      this.#deps.config,
      config,
      running.hub,
      this.#deps.children.forChannel(config.id),
      this.#deps.log.child({ channelId: config.id }),
    );
    await running.journal.flush();
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.stopChannel(channelId);
    await rm(path.join(this.#deps.config.mediaDir, channelId), { recursive: true, force: true });
    await this.#deps.store.timelines.delete(channelId);
    await this.#deps.store.timelines.setOutputStartedAt(channelId, undefined);
    await this.deleteSlateImage(channelId);
  }

  updateChannel(config: ChannelConfig): void {
    this.#channels.get(config.id)?.hub.setConfig(config);
  }

  playbackSecretRotated(): void {
    for (const { hub } of this.#channels.values()) hub.recheckViewers();
  }

  isLive(channelId: string): boolean {
    return this.#channels.get(channelId)?.hub.live ?? false;
  }

  async channelBytes(channelId: string): Promise<number> {
    const running = this.#channels.get(channelId);
    return running ? running.hub.output.bytes() : this.#deps.store.timelines.bytes(channelId);
  }

  // ── redundant ingest ─────────────────────────────────────────────────
  /** An operator's switch between the primary and the backup input. */
  switchInput(channelId: string, to?: IngestRole): InputName {
    const running = this.#channels.get(channelId);
    if (!running) throw new OnairError('channel_not_running', 'channel is not running');
    return running.hub.switchInput(to);
  }

  /** The picture shown when every input is gone: the channel's own, or the default card. */
  slateImage(channelId: string): string {
    return this.#slates.path(channelId);
  }

  /** Keeps an uploaded slate image (PNG or JPEG) for the channel; used from the next slate on. */
  setSlateImage(channelId: string, image: Buffer): Promise<void> {
    return this.#slates.set(channelId, image);
  }

  deleteSlateImage(channelId: string): Promise<void> {
    return this.#slates.delete(channelId);
  }

  protected hubOf(channelId: string): ChannelHub | undefined {
    return this.#channels.get(channelId)?.hub;
  }

  // ── figures ──────────────────────────────────────────────────────────
  stats(channelId: string): ChannelLiveStats {
    return this.#channels.get(channelId)?.hub.stats() ?? OFFLINE_STATS;
  }

  metrics(): Sample[] {
    const channels = [...this.#channels].map(([id, { hub }]) => ({
      id,
      live: hub.live,
      stats: hub.stats(),
      bytes: hub.output.bytes(),
    }));
    return channelMetrics(this.#engine.name, channels);
  }

  mounts(): MediaMount[] {
    return mediaMounts({
      store: this.#deps.store,
      config: this.#deps.config,
      running: (id) => this.#channels.get(id),
      playables: this.playables,
      cache: this.#originCache,
      renderings: this.#renderings,
      ...(this.#deps.verifyPlayback ? { verifyPlayback: this.#deps.verifyPlayback } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#starting.values()]);
    await this.#rtmpListening;
    await this.#rtmpServer?.close();
    await Promise.all(
      [...this.#channels.values()].map(async ({ hub, rtmp, srt }) => {
        rtmp.close('server stopping');
        await Promise.all(srt.map((s) => s.close()));
        await hub.close();
      }),
    );
    await Promise.all([...this.#channels.values()].map(({ journal }) => journal.close()));
    this.#channels.clear();
    await this.#engine.close();
  }
}

export function createLiveRuntime(deps: LiveRuntimeDeps): LiveRuntime {
  return new LiveRuntime(deps);
}
