/**
 * The media runtime: one ChannelHub per running channel, the SFU engine, the
 * asset library, and the media endpoints (/whip, /whep, /live, /programs, /vod,
 * /time). Implements what the control plane needs (ChannelRuntime) and what
 * the HTTP server mounts.
 */
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import { OFFLINE_STATS, type ChannelLiveStats } from '../../lib/stats.ts';
import type { PlaybackMode } from '../../lib/schemas.ts';
import type { Config } from '../config.ts';
import type {
  ChannelConfig,
  ChannelRuntime,
  KeptAsset,
  RecordedSpan,
  RecordingSource,
} from '../core/runtime.ts';
import { isAllowed } from '../http/allow-list.ts';
import { publicBaseUrl, secretEquals } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { whepMount } from '../egress/whep-endpoint.ts';
import { RtmpChannelIngest } from '../ingest/rtmp-ingest.ts';
import { startRtmpListener, startSrtListeners } from '../ingest/ingest-listeners.ts';
import type { RtmpServer } from '../ingest/rtmp-server.ts';
import type { SrtListener } from '../ingest/srt-listener.ts';
import { whipMount } from '../ingest/whip-endpoint.ts';
import type { Logger } from '../log.ts';
import type { ChildProcesses } from '../media/child-processes.ts';
import { channelMetrics } from '../observability/channel-metrics.ts';
import type { Sample } from '../observability/metrics.ts';
import {
  liveMount,
  programsMount,
  timeMount,
  vodMount,
  type OriginChannel,
  type OriginChannelInfo,
  type Playable,
  type VerifyPlayback,
} from '../origin/origin.ts';
import { LiveOutput, type Recording } from '../packager/live-output.ts';
import type { SfuEngine } from '../sfu/engine.ts';
import { weriftEngine } from '../sfu/start-engine.ts';
import { SlateImages } from '../store/slate-images.ts';
import type { AssetRecord, ChannelRecord, ProgramRecord, Store } from '../store/store.ts';
import { awaitOrphanedRuns } from '../transcode/ffmpeg-run.ts';
import { EncoderSupervisor } from '../transcode/supervisor.ts';
import { Thumbnailer } from '../transcode/thumbnail.ts';
import { AssetLibrary } from './asset-library.ts';
import { ChannelHub } from './channel-hub.ts';
import type { InputName } from '../source/failover-source.ts';
import { SlateSource } from '../source/slate-source.ts';
import { FileCache } from '../origin/file-cache.ts';
import { Renderings } from '../origin/renderings.ts';
import { DvrPlayback, LivePlayback, VodPlayback } from './playback-sources.ts';
import { SqliteTimelineJournal, savedTimeline } from './timeline-journal.ts';

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
  verifyPlayback?: VerifyPlayback;
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
}

function span(r: Recording): RecordedSpan | undefined {
  return r.view.runs.length === 0
    ? undefined
    : { start: r.start, end: r.end, durationSeconds: r.durationSeconds, bytes: r.bytes };
}

interface RunningChannel {
  hub: ChannelHub;
  journal: SqliteTimelineJournal;
  origin: OriginChannel;
  rtmp: RtmpChannelIngest;
  /** The SRT listeners of the primary and backup inputs (none when SRT is off). */
  srt: SrtListener[];
}

const CACHE_LIMIT = 1000;

interface ChannelAccess {
  readonly preview: readonly string[];
  readonly playback: PlaybackMode;
}

export class LiveRuntime implements MediaRuntime {
  readonly #deps: LiveRuntimeDeps;
  readonly #engine: SfuEngine;
  readonly #library: AssetLibrary;
  readonly #channels = new Map<string, RunningChannel>();
  /** Channels starting (their output recovering after a restart). */
  readonly #starting = new Map<string, Promise<void>>();
  /** Running programs → their channel; stopped programs → their asset. Filled as programs come and go. */
  readonly #programChannels = new Map<string, string>();
  readonly #programAssets = new Map<string, string | null>();
  readonly #programNames = new Map<string, string>();
  /** Who may watch each channel (preview allow-list, playback mode), for playback of programs and assets. */
  readonly #access = new Map<string, ChannelAccess>();
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
    this.#deps = deps;
    this.#slates = new SlateImages(deps.config.dataDir);
    // A part or a segment larger than this is streamed from disk each time.
    this.#originCache = new FileCache({
      maxBytes: deps.config.originCacheBytes,
      maxItemBytes: 16 * 1024 * 1024,
    });
    this.#engine = deps.engine ?? weriftEngine(deps.config, deps.log.child({ component: 'sfu' }));
    this.#library = new AssetLibrary({
      store: deps.store,
      mediaDir: deps.config.mediaDir,
      ffmpegPath: deps.config.ffmpegPath,
      children: deps.children,
      log: deps.log.child({ component: 'assets' }),
      ...(deps.assetGrew ? { onGrew: deps.assetGrew } : {}),
    });
    const rtmp = startRtmpListener(deps.config, deps.log, (key, address) => this.#rtmpChannel(key, address));
    this.#rtmpServer = rtmp.server;
    this.#rtmpListening = rtmp.listening;
  }

  /** The RTMP side of the running channel whose key is `key` (checked in constant time). */
  #rtmpChannel(key: string, address: string): RtmpChannelIngest {
    for (const running of this.#channels.values()) {
      const c = running.hub.config;
      if (!secretEquals(key, c.streamKey)) continue;
      if (!isAllowed(c.ingest, address))
        throw new OnairError('forbidden', "your address is not in the channel's ingest allow-list");
      return running.rtmp;
    }
    if (this.#deps.store.allChannels().some((c) => secretEquals(key, c.streamKey))) {
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
    const { config: cfg, log, store } = this.#deps;
    const channelDir = path.join(cfg.mediaDir, config.id);
    const liveDir = path.join(channelDir, 'live');
    const channelLog = log.child({ channelId: config.id });
    const children = this.#deps.children.forChannel(config.id);
    this.#access.set(config.id, { preview: config.preview, playback: config.playback });
    // After a crash, FFmpeg may still be finishing segments: they belong to the recording.
    const orphans = await awaitOrphanedRuns(liveDir);
    if (orphans > 0) channelLog.info({ orphans }, 'waited for encoders left from before the restart');
    const journal = new SqliteTimelineJournal(store, config.id, channelLog);
    const saved = store.loadTimeline(config.id);
    let startedAt = store.outputStartedAt(config.id);
    if (startedAt === undefined) {
      startedAt = Date.now();
      store.setOutputStartedAt(config.id, startedAt);
    }
    const output = new LiveOutput({
      liveDir,
      liveWindowSegments: cfg.liveWindowSegments,
      segmentSeconds: config.segmentSeconds,
      log: channelLog,
      journal,
      restore: savedTimeline(saved),
      startedAt,
    });
    await output.recover();
    journal.flush();
    const hub = new ChannelHub({
      config,
      router: this.#engine.createRouter(config.id),
      createEncoder: (hooks) =>
        new EncoderSupervisor({ ffmpegPath: cfg.ffmpegPath, liveDir, log: channelLog, children, hooks }),
      output,
      thumbnails: new Thumbnailer(
        { ffmpegPath: cfg.ffmpegPath, children },
        path.join(channelDir, 'thumbnail.jpg'),
      ),
      log: channelLog,
      event: (type, message) => this.#deps.event(config.id, type, message),
      createSlate: (codecs) =>
        new SlateSource({
          ffmpegPath: cfg.ffmpegPath,
          image: this.slateImage(config.id),
          video: codecs.video,
          audio: codecs.audio,
          log: channelLog,
          children,
        }),
      maxViewers: cfg.whepMaxViewers,
    });
    const rtmp = new RtmpChannelIngest({
      channelId: config.id,
      ffmpegPath: cfg.ffmpegPath,
      log: channelLog.child({ component: 'rtmp' }),
      children,
      mode: () => hub.config.mode,
      attach: (source, role) => hub.attach(source, role),
      current: () => hub.source,
    });
    const srt = this.#srtListeners(config, hub, channelLog);
    const playback = new LivePlayback(hub, cfg.liveWindowSegments);
    const origin: OriginChannel = {
      get info(): OriginChannelInfo {
        return { ...hub.config, state: 'running' };
      },
      get live() {
        return hub.live;
      },
      playback,
    };
    this.#channels.set(config.id, { hub, journal, origin, rtmp, srt });
  }

  /** The channel's SRT listeners on its own ports, when SRT is on and the channel has ports. */
  #srtListeners(config: ChannelConfig, hub: ChannelHub, log: Logger): SrtListener[] {
    const children = this.#deps.children.forChannel(config.id);
    return startSrtListeners(
      this.#deps.config,
      config,
      (source, role) => hub.attach(source, role),
      children,
      log,
    );
  }

  async stopChannel(channelId: string): Promise<void> {
    await this.#starting.get(channelId)?.catch(() => undefined);
    const running = this.#channels.get(channelId);
    if (!running) return;
    running.rtmp.close();
    await Promise.all(running.srt.map((s) => s.close()));
    await running.hub.close();
    running.journal.close();
    this.#channels.delete(channelId);
    for (const [programId, ch] of this.#programChannels)
      if (ch === channelId) this.#programChannels.delete(programId);
  }

  async resetChannel(config: ChannelConfig): Promise<void> {
    this.#access.set(config.id, { preview: config.preview, playback: config.playback });
    const running = this.#channels.get(config.id);
    if (!running) return;
    // The old key opens nothing any more: the SRT listener restarts with the new passphrase.
    await Promise.all(running.srt.map((s) => s.close()));
    running.srt = [];
    await running.hub.reset(config);
    running.srt = this.#srtListeners(config, running.hub, this.#deps.log.child({ channelId: config.id }));
    running.journal.flush();
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.stopChannel(channelId);
    await rm(path.join(this.#deps.config.mediaDir, channelId), { recursive: true, force: true });
    this.#deps.store.deleteTimeline(channelId);
    this.#deps.store.setOutputStartedAt(channelId, undefined);
    await this.deleteSlateImage(channelId);
  }

  updateChannel(config: ChannelConfig): void {
    this.#access.set(config.id, { preview: config.preview, playback: config.playback });
    this.#channels.get(config.id)?.hub.setConfig(config);
  }

  isLive(channelId: string): boolean {
    return this.#channels.get(channelId)?.hub.live ?? false;
  }

  channelBytes(channelId: string): number {
    const running = this.#channels.get(channelId);
    return running ? running.hub.output.bytes() : this.#deps.store.timelineBytes(channelId);
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

  // ── programs and assets ─────────────────────────────────────────────
  programStarted(program: ProgramRecord): void {
    const hub = this.#channels.get(program.channelId)?.hub;
    if (!hub) return;
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    hub.programStarted(program.id, started, program.archiveWindowMinutes * 60);
    this.#programChannels.set(program.id, program.channelId);
    this.#programNames.set(program.id, program.name);
    this.#programAssets.delete(program.id);
  }

  programSpan(program: ProgramRecord): RecordedSpan | undefined {
    const recording = this.#channels.get(program.channelId)?.hub.programRecording(program.id);
    return recording ? span(recording) : undefined;
  }

  programStopped(program: ProgramRecord): void {
    this.#channels.get(program.channelId)?.hub.programStopped(program.id);
    this.#programChannels.delete(program.id);
    this.#programNames.delete(program.id);
    this.#programAssets.delete(program.id);
  }

  spanOf(source: RecordingSource, start: number, end: number): Promise<RecordedSpan | undefined> {
    const recording = this.#recording(source, start, end);
    return Promise.resolve(recording ? span(recording) : undefined);
  }

  #recording(source: RecordingSource, start: number, end: number): Recording | undefined {
    if (source.kind === 'channel')
      return this.#channels.get(source.channelId)?.hub.output.recording(start, end);
    return this.#library.recording(source.assetId, start, end);
  }

  keepAsset(asset: AssetRecord, source: RecordingSource): Promise<KeptAsset> {
    if (asset.rangeStart === null || asset.rangeEnd === null) {
      return Promise.reject(new OnairError('validation_failed', 'the asset has no range'));
    }
    const start = Date.parse(asset.rangeStart);
    // The range ends where its last segment ends: take every segment that starts before.
    const end = Date.parse(asset.rangeEnd);
    if (source.kind === 'channel') {
      const output = this.#channels.get(source.channelId)?.hub.output;
      if (!output) return Promise.reject(new OnairError('channel_not_running', 'the channel is not running'));
      const recording = output.recording(start, end);
      // Held from now: the program's window may go at once, its files may not.
      const release = output.hold(recording);
      return this.#library.keep(asset, recording, output.liveDir).finally(release);
    }
    return (async () => {
      const recording = this.#library.recording(source.assetId, start, end);
      if (!recording || recording.view.runs.length === 0) {
        throw new OnairError('clip_out_of_range', 'nothing recorded in that range');
      }
      return this.#library.keep(asset, recording, this.#library.dir(source.assetId));
    })();
  }

  checkAsset(asset: AssetRecord): Promise<KeptAsset | undefined> {
    return this.#library.check(asset);
  }

  assetChanged(asset: AssetRecord): void {
    this.#library.invalidate(asset.id);
  }

  deleteAsset(assetId: string): Promise<void> {
    for (const [programId, a] of this.#programAssets)
      if (a === assetId) this.#programAssets.delete(programId);
    return this.#library.delete(assetId);
  }

  sweepAssets(known: readonly string[]): Promise<void> {
    return this.#library.sweep(known);
  }

  #channelAccess(channelId: string): ChannelAccess {
    let access = this.#access.get(channelId);
    if (!access) {
      // A deleted channel's recordings stay public.
      const c = this.#deps.store.getChannel(channelId);
      access = { preview: c?.preview ?? [], playback: c?.playback ?? 'public' };
      if (this.#access.size > CACHE_LIMIT) this.#access.clear();
      this.#access.set(channelId, access);
    }
    return access;
  }

  #assetPlayable(assetId: string): Playable | undefined {
    const media = this.#library.media(assetId);
    if (!media || !media.record.published) return undefined;
    if (media.record.status !== 'ready') {
      throw new OnairError(
        'not_found',
        `asset ${assetId} is ${media.record.status === 'failed' ? 'broken' : 'being prepared'}`,
      );
    }
    const source = new VodPlayback(media, this.#library);
    const r = media.record;
    return {
      ...this.#channelAccess(r.channelId),
      source,
      info: {
        id: r.id,
        kind: 'asset',
        name: r.name,
        channelId: r.channelId,
        state: 'recorded',
        durationSeconds: r.durationSeconds,
        startedAt: r.rangeStart,
      },
    };
  }

  #programPlayable(programId: string): Playable | undefined {
    const channelId = this.#programChannels.get(programId);
    const hub = channelId ? this.#channels.get(channelId)?.hub : undefined;
    if (hub?.hasProgram(programId)) {
      const recording = hub.programRecording(programId);
      return {
        preview: hub.config.preview,
        playback: hub.config.playback,
        source: new DvrPlayback(hub, programId),
        info: {
          id: programId,
          kind: 'program',
          name: this.#programNames.get(programId) ?? programId,
          channelId: hub.channelId,
          state: 'live',
          durationSeconds: recording?.durationSeconds ?? 0,
          startedAt:
            recording && recording.durationSeconds > 0 ? new Date(recording.start).toISOString() : null,
        },
      };
    }
    let assetId = this.#programAssets.get(programId);
    if (assetId === undefined) {
      const program = this.#deps.store.getProgram(programId);
      if (!program) return undefined;
      if (program.state === 'running') {
        throw new OnairError('channel_not_running', 'the program is running but its channel is offline');
      }
      assetId = program.assetId;
      if (this.#programAssets.size > CACHE_LIMIT) this.#programAssets.clear();
      this.#programAssets.set(programId, assetId);
    }
    if (assetId === null) throw new OnairError('not_found', 'the program has not recorded anything yet');
    const asset = this.#assetPlayable(assetId);
    return asset && { ...asset, info: { ...asset.info, id: programId, kind: 'program' } };
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
    const { store, config } = this.#deps;
    const offline = (id: string): OriginChannelInfo | undefined => {
      const c: ChannelRecord | undefined = store.getChannel(id);
      return c
        ? {
            id: c.id,
            name: c.name,
            description: c.description,
            state: c.state,
            preview: c.preview,
            segmentSeconds: c.segmentSeconds,
            playback: c.playback,
          }
        : undefined;
    };
    const origin = {
      getLive: (id: string) => this.#channels.get(id)?.origin,
      getOffline: offline,
      getProgram: (id: string) => this.#programPlayable(id),
      getAsset: (id: string) => this.#assetPlayable(id),
      publicUrl: (req: IncomingMessage) => publicBaseUrl(config, req),
      verifyPlayback: this.#deps.verifyPlayback,
      cache: this.#originCache,
      renderings: this.#renderings,
    };
    return [
      whipMount(
        {
          getChannel: (id) => {
            const running = this.#channels.get(id);
            if (running) return { ...running.hub.config, state: 'running' };
            return store.getChannel(id);
          },
          publish: (channelId, offer, summary, role) => {
            const running = this.#channels.get(channelId);
            if (!running) throw new OnairError('channel_not_running', 'channel is not running');
            if (running.hub.config.mode === 'passthrough-abr') {
              throw new OnairError(
                'unsupported_offer',
                'a multi-bitrate passthrough channel is fed over RTMP, one stream per rendition',
              );
            }
            return running.hub.publish(offer, summary, role);
          },
          findSession: (channelId, sessionId) => this.#channels.get(channelId)?.hub.findSession(sessionId),
        },
        { iceServers: config.iceServers, rateLimitPerMinute: config.whipRateLimitPerMinute },
      ),
      whepMount(
        {
          getChannel: (id) => {
            const running = this.#channels.get(id);
            if (running) return running.origin.info;
            return store.getChannel(id);
          },
          watch: (channelId, offer, summary) => {
            const running = this.#channels.get(channelId);
            if (!running) throw new OnairError('channel_not_running', 'channel is not running');
            return running.hub.watch(offer, summary);
          },
          findSession: (channelId, sessionId) => this.#channels.get(channelId)?.hub.findViewer(sessionId),
        },
        {
          iceServers: config.iceServers,
          rateLimitPerMinute: config.whepRateLimitPerMinute,
          ...(this.#deps.verifyPlayback ? { verifyPlayback: this.#deps.verifyPlayback } : {}),
        },
      ),
      liveMount(origin),
      programsMount(origin),
      vodMount(origin),
      timeMount(),
    ];
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
    for (const { journal } of this.#channels.values()) journal.close();
    this.#channels.clear();
    await this.#engine.close();
  }
}

export function createLiveRuntime(deps: LiveRuntimeDeps): LiveRuntime {
  return new LiveRuntime(deps);
}
