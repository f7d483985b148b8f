/**
 * Channels, programs and assets: the state rules of onair's control model
 * (after Azure Media Services' live streaming). Routes call this; it calls the
 * store for rows and the runtime for media.
 */
import { OnairError } from '../../lib/errors.ts';
import {
  MAX_RUNNING_PROGRAMS,
  type AssetView,
  type Channel,
  type ChannelCreate,
  type ChannelPatch,
  type Page,
  type PageQuery,
  type ProgramCreate,
  type ProgramView,
  AssetPatchSchema,
  ChannelCreateSchema,
  ChannelPatchSchema,
  ClipCreateSchema,
  ProgramCreateSchema,
} from '../../lib/schemas.ts';
import type { ChannelEventType, WebhookEvent } from '../../lib/events.ts';
import { parseWith } from '../../lib/validate.ts';
import type { Logger } from '../log.ts';
import { newId, newSecret } from '../store/ids.ts';
import type { AssetRecord, ChannelRecord, ProgramRecord, Store } from '../store/store.ts';
import { channelConfig, type ChannelRuntime, type RecordedSpan, type RecordingSource } from './runtime.ts';

/** An event for other systems (webhooks), as the control plane reports it. */
export type Notification = Omit<WebhookEvent, 'id'>;

export interface ControlPlaneLimits {
  /** Channels that may exist. */
  maxChannels: number;
  /** Channels that may be started (starting, running or stopping) at once. */
  maxRunningChannels: number;
}

/** Where encoders reach onair's RTMP and SRT listeners (for the URLs channels show). */
export interface IngestPorts {
  /** RTMP port, or undefined when RTMP is off. */
  rtmp?: number;
  rtmps?: number;
  /** UDP ports handed to channels for SRT, one each; undefined when SRT is off. */
  srtRange?: readonly [number, number];
}

export interface ControlPlaneDeps {
  store: Store;
  runtime: ChannelRuntime;
  log: Logger;
  now?: () => Date;
  limits?: ControlPlaneLimits;
  /** Called after every event; must not throw or block (webhooks queue it). */
  notify?: (event: Notification) => void;
  ingest?: IngestPorts;
}

export class ControlPlane {
  readonly #store: Store;
  readonly #runtime: ChannelRuntime;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #limits: ControlPlaneLimits;
  readonly #notify: ((event: Notification) => void) | undefined;
  readonly #ingest: IngestPorts;

  constructor(deps: ControlPlaneDeps) {
    this.#ingest = deps.ingest ?? {};
    this.#store = deps.store;
    this.#runtime = deps.runtime;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
    this.#limits = deps.limits ?? { maxChannels: Infinity, maxRunningChannels: Infinity };
    this.#notify = deps.notify;
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  // ── views ─────────────────────────────────────────────────────────────
  channelView(c: ChannelRecord, baseUrl: string): Channel {
    return {
      id: c.id,
      name: c.name,
      description: c.description,
      state: c.state,
      mode: c.mode,
      ladder: c.ladder,
      segmentSeconds: c.segmentSeconds,
      streamKey: c.streamKey,
      ingest: c.ingest,
      preview: c.preview,
      playback: c.playback,
      latency: c.latency,
      srtLatencyMs: c.srtLatencyMs,
      srtPort: c.srtPort,
      srtBackupPort: c.srtBackupPort,
      failoverAfterMs: c.failoverAfterMs,
      slateAfterMs: c.slateAfterMs,
      failback: c.failback,
      urls: {
        whip: `${baseUrl}/whip/${c.id}`,
        whipBackup: `${baseUrl}/whip/${c.id}/backup`,
        whep: `${baseUrl}/whep/${c.id}`,
        ...ingestUrls(baseUrl, this.#ingest, c),
        hls: `${baseUrl}/live/${c.id}/master.m3u8`,
        dash: `${baseUrl}/live/${c.id}/manifest.mpd`,
        watch: `${baseUrl}/watch/${c.id}`,
        embed: `${baseUrl}/embed/${c.id}`,
      },
      live: c.state === 'running' && this.#runtime.isLive(c.id),
      bytes: this.#runtime.channelBytes(c.id),
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  // ── channels ──────────────────────────────────────────────────────────
  requireChannel(id: string): ChannelRecord {
    const c = this.#store.getChannel(id);
    if (!c) throw OnairError.notFound('channel', id);
    return c;
  }

  createChannel(input: unknown): ChannelRecord {
    const body = parseWith(ChannelCreateSchema, input);
    if (this.#store.countChannels() >= this.#limits.maxChannels) {
      throw new OnairError(
        'channel_limit_reached',
        `this server keeps at most ${this.#limits.maxChannels} channels (ONAIR_MAX_CHANNELS); delete one first`,
      );
    }
    const now = this.#iso();
    const c: ChannelRecord = {
      id: newId('ch'),
      name: body.name,
      description: body.description,
      state: 'stopped',
      mode: body.mode,
      ladder: body.ladder,
      segmentSeconds: body.segmentSeconds,
      streamKey: newSecret('sk'),
      ingest: body.ingest,
      preview: body.preview,
      failoverAfterMs: body.failoverAfterMs,
      slateAfterMs: body.slateAfterMs,
      failback: body.failback,
      playback: body.playback,
      latency: body.latency,
      srtLatencyMs: body.srtLatencyMs,
      ...this.#freeSrtPorts(),
      createdAt: now,
      updatedAt: now,
    };
    this.#store.insertChannel(c);
    this.#event(c.id, 'channel.created', `channel "${c.name}" created`);
    return c;
  }

  listChannels(q: PageQuery): Page<ChannelRecord> {
    const { items, total } = this.#store.listChannels(q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  patchChannel(id: string, input: unknown): ChannelRecord {
    const c = this.requireChannel(id);
    const patch = parseWith(ChannelPatchSchema, input);
    if (c.state !== 'stopped') {
      for (const field of ['mode', 'ladder', 'segmentSeconds', 'srtLatencyMs'] as const) {
        if (patch[field] !== undefined && patch[field] !== c[field]) {
          throw new OnairError(
            'channel_running',
            `${field} cannot change while the channel is ${c.state}; stop it first`,
            {
              field,
            },
          );
        }
      }
    }
    const next: ChannelRecord = { ...c, ...stripUndefined(patch), updatedAt: this.#iso() };
    this.#store.updateChannel(next);
    this.#runtime.updateChannel(channelConfig(next));
    return next;
  }

  async deleteChannel(id: string): Promise<void> {
    const c = this.requireChannel(id);
    if (c.state !== 'stopped') {
      throw new OnairError('channel_running', `channel is ${c.state}; stop it before deleting it`);
    }
    const running = this.#store.programsOfChannel(id, 'running');
    if (running.length > 0) {
      throw new OnairError(
        'channel_has_running_programs',
        `channel has ${running.length} running program(s); stop them first`,
      );
    }
    this.#store.deleteChannel(id); // programs and events cascade; assets stay: recordings are never lost
    await this.#runtime.deleteChannel(id);
    this.#log.info({ channelId: id }, 'channel deleted');
  }

  /**
   * The two lowest SRT ports of the range no channel has (primary, backup), or
   * null for each that is not there (SRT off, or the range is used up).
   */
  #freeSrtPorts(): { srtPort: number | null; srtBackupPort: number | null } {
    const range = this.#ingest.srtRange;
    const free: number[] = [];
    if (range) {
      const used = this.#store.usedSrtPorts();
      for (let p = range[0]; p <= range[1] && free.length < 2; p++) if (!used.has(p)) free.push(p);
    }
    return { srtPort: free[0] ?? null, srtBackupPort: free[1] ?? null };
  }

  async startChannel(id: string): Promise<ChannelRecord> {
    let c = this.requireChannel(id);
    if ((c.srtPort === null || c.srtBackupPort === null) && this.#ingest.srtRange) {
      // Channels made before SRT (or when the range was full) get their ports when they start.
      const free = this.#freeSrtPorts();
      const srtPort = c.srtPort ?? free.srtPort;
      const srtBackupPort = c.srtBackupPort ?? (c.srtPort === null ? free.srtBackupPort : free.srtPort);
      if (srtPort !== c.srtPort || srtBackupPort !== c.srtBackupPort) {
        c = { ...c, srtPort, srtBackupPort };
        this.#store.updateChannel(c);
      }
    }
    if (c.state === 'running') return c;
    if (c.state !== 'stopped')
      throw new OnairError('channel_busy', `channel is ${c.state}; try again in a moment`);
    if (this.#store.countActiveChannels() >= this.#limits.maxRunningChannels) {
      throw new OnairError(
        'running_channel_limit_reached',
        `this server runs at most ${this.#limits.maxRunningChannels} channels at once (ONAIR_MAX_RUNNING_CHANNELS); stop one first`,
      );
    }
    this.#setState(c, 'starting');
    try {
      await this.#runtime.startChannel(channelConfig(c));
    } catch (err) {
      this.#setState(c, 'stopped');
      this.#event(c.id, 'channel.start_failed', `channel failed to start: ${(err as Error).message}`);
      throw new OnairError('unavailable', `channel failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const running = this.#setState(c, 'running');
    // Programs still running (after a server restart) keep their windows.
    for (const p of this.#store.programsOfChannel(c.id, 'running')) this.#runtime.programStarted(p);
    this.#event(c.id, 'channel.started', 'channel started; waiting for a publisher');
    return running;
  }

  async stopChannel(id: string): Promise<ChannelRecord> {
    const c = this.requireChannel(id);
    if (c.state === 'stopped') return c;
    if (c.state === 'stopping') throw new OnairError('channel_busy', 'channel is already stopping');
    // A stopping channel ends its programs first, so every recording is closed and kept.
    for (const p of this.#store.programsOfChannel(id, 'running')) this.#finishProgram(p);
    this.#setState(c, 'stopping');
    try {
      await this.#runtime.stopChannel(id);
    } finally {
      this.#setState(c, 'stopped');
    }
    this.#event(c.id, 'channel.stopped', 'channel stopped');
    return this.requireChannel(id);
  }

  async resetChannel(id: string): Promise<ChannelRecord> {
    const c = this.requireChannel(id);
    if (c.state === 'starting' || c.state === 'stopping') {
      throw new OnairError('channel_busy', `channel is ${c.state}; try again in a moment`);
    }
    const next: ChannelRecord = { ...c, streamKey: newSecret('sk'), updatedAt: this.#iso() };
    this.#store.updateChannel(next);
    this.#store.clearEvents(id);
    await this.#runtime.resetChannel(channelConfig(next));
    this.#event(id, 'channel.reset', 'stream key rotated; runtime state cleared');
    return next;
  }

  /** After a restart: assets being kept are checked, channels that were running come back running. */
  async restore(): Promise<void> {
    const assets = this.#store.allAssets();
    await this.#runtime.sweepAssets(assets.map((a) => a.id));
    for (const a of assets.filter((x) => x.status === 'processing')) {
      const kept = await this.#runtime.checkAsset(a);
      this.#store.updateAsset(
        kept
          ? { ...a, status: 'ready', bytes: kept.bytes, durationSeconds: round3(kept.durationSeconds) }
          : { ...a, status: 'failed' },
      );
      this.#log.info({ assetId: a.id, kept: kept !== undefined }, 'asset checked after a restart');
    }
    for (const c of this.#store.allChannels()) {
      if (c.state === 'stopping') this.#setState(c, 'stopped');
      if (c.state === 'running' || c.state === 'starting') {
        this.#setState(c, 'stopped');
        try {
          await this.startChannel(c.id);
          this.#log.info({ channelId: c.id }, 'channel restored');
        } catch (err) {
          this.#log.error({ channelId: c.id, err }, 'channel could not be restored');
        }
      }
    }
  }

  /** Server shutdown: stop media, but keep the persisted state so channels come back. */
  async shutdown(): Promise<void> {
    await this.#runtime.close();
  }

  /** Writes the new state and returns the new row; rows are values, never shared. */
  #setState(c: ChannelRecord, state: ChannelRecord['state']): ChannelRecord {
    // The row as it is now: a rename while the channel was starting or stopping is kept.
    const current = this.#store.getChannel(c.id) ?? c;
    const next = { ...current, state, updatedAt: this.#iso() };
    this.#store.updateChannel(next);
    return next;
  }

  #event(
    channelId: string,
    type: ChannelEventType,
    message: string,
    about: { programId?: string; assetId?: string } = {},
  ): void {
    const at = this.#iso();
    this.#store.insertEvent(channelId, type, message, at);
    this.#log.info({ channelId, event: type }, message);
    this.#tell({ type, at, data: { channelId, ...about, message } });
  }

  /** Hands an event to the notifier; a failing notifier never fails the caller. */
  #tell(event: Notification): void {
    if (!this.#notify) return;
    try {
      this.#notify(event);
    } catch (err) {
      this.#log.error({ err, event: event.type }, 'event notification failed');
    }
  }

  recordEvent(
    channelId: string,
    type: ChannelEventType,
    message: string,
    about: { programId?: string; assetId?: string } = {},
  ): void {
    if (this.#store.getChannel(channelId)) this.#event(channelId, type, message, about);
  }

  // ── programs ──────────────────────────────────────────────────────────
  requireProgram(id: string): ProgramRecord {
    const p = this.#store.getProgram(id);
    if (!p) throw OnairError.notFound('program', id);
    return p;
  }

  createProgram(channelId: string, input: unknown): ProgramRecord {
    this.requireChannel(channelId);
    const body = parseWith(ProgramCreateSchema, input as ProgramCreate);
    const p: ProgramRecord = {
      id: newId('pg'),
      channelId,
      name: body.name,
      archiveWindowMinutes: body.archiveWindowMinutes,
      state: 'stopped',
      startedAt: null,
      stoppedAt: null,
      assetId: null,
      createdAt: this.#iso(),
    };
    this.#store.insertProgram(p);
    return p;
  }

  listPrograms(channelId: string, q: PageQuery): Page<ProgramRecord> {
    this.requireChannel(channelId);
    const { items, total } = this.#store.listPrograms(channelId, q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  startProgram(id: string): ProgramRecord {
    const p = this.requireProgram(id);
    if (p.state === 'running') return p;
    const c = this.requireChannel(p.channelId);
    if (c.state !== 'running') {
      throw new OnairError(
        'channel_not_running',
        `channel is ${c.state}; a program starts only on a running channel`,
      );
    }
    if (p.assetId !== null) {
      throw new OnairError('program_finished', 'program has already recorded an asset; create a new program');
    }
    const running = this.#store.programsOfChannel(c.id, 'running').length;
    if (running >= MAX_RUNNING_PROGRAMS) {
      throw new OnairError(
        'program_limit_reached',
        `a channel runs at most ${MAX_RUNNING_PROGRAMS} programs at once`,
      );
    }
    const next: ProgramRecord = { ...p, state: 'running', startedAt: this.#iso(), stoppedAt: null };
    this.#store.updateProgram(next);
    this.#runtime.programStarted(next);
    this.#event(c.id, 'program.started', `program "${p.name}" started`, { programId: p.id });
    return next;
  }

  stopProgram(id: string): ProgramRecord {
    const p = this.requireProgram(id);
    if (p.state !== 'running') {
      throw new OnairError('program_not_running', `program is ${p.state}; only a running program stops`);
    }
    return this.#finishProgram(p);
  }

  /** Ends a program: what its window holds becomes an asset, kept in the background. */
  #finishProgram(p: ProgramRecord): ProgramRecord {
    const stoppedAt = this.#iso();
    const span = this.#runtime.programSpan(p);
    const started = p.startedAt ? Date.parse(p.startedAt) : Date.parse(stoppedAt);
    const asset: AssetRecord = {
      id: newId('as'),
      programId: p.id,
      channelId: p.channelId,
      name: p.name,
      kind: 'program',
      status: span ? 'processing' : 'ready',
      published: true,
      durationSeconds: round3(
        span ? span.durationSeconds : Math.max(0, (Date.parse(stoppedAt) - started) / 1000),
      ),
      bytes: span?.bytes ?? 0,
      rangeStart: new Date(span?.start ?? started).toISOString(),
      rangeEnd: new Date(span?.end ?? Date.parse(stoppedAt)).toISOString(),
      createdAt: stoppedAt,
    };
    const next: ProgramRecord = { ...p, state: 'stopped', stoppedAt, assetId: asset.id };
    this.#store.transaction(() => {
      this.#store.insertAsset(asset);
      this.#store.updateProgram(next);
    });
    if (span) void this.#keep(asset, { kind: 'channel', channelId: p.channelId });
    this.#runtime.programStopped(p);
    this.#event(p.channelId, 'program.stopped', `program "${p.name}" stopped; asset ${asset.id} created`, {
      programId: p.id,
      assetId: asset.id,
    });
    return next;
  }

  /** Keeps an asset's media; its row says `ready` (or `failed`) when done. */
  #keep(asset: AssetRecord, source: RecordingSource): Promise<AssetRecord> {
    return this.#runtime.keepAsset(asset, source).then(
      (kept) => {
        const ready: AssetRecord = {
          ...(this.#store.getAsset(asset.id) ?? asset),
          status: 'ready',
          bytes: kept.bytes,
          durationSeconds: round3(kept.durationSeconds),
        };
        if (this.#store.getAsset(asset.id)) this.#store.updateAsset(ready);
        this.recordEvent(asset.channelId, 'asset.ready', `asset ${asset.id} ("${asset.name}") is ready`, {
          assetId: asset.id,
        });
        return ready;
      },
      (err: unknown) => {
        const failed: AssetRecord = { ...(this.#store.getAsset(asset.id) ?? asset), status: 'failed' };
        if (this.#store.getAsset(asset.id)) this.#store.updateAsset(failed);
        this.#log.error({ err, assetId: asset.id }, 'asset could not be kept');
        this.recordEvent(
          asset.channelId,
          'asset.failed',
          `asset ${asset.id} could not be kept: ${(err as Error).message}`,
        );
        return failed;
      },
    );
  }

  /**
   * A clip of a program's recording, made by reference to its segments:
   * segment-accurate (every segment that starts in the range), in well under a second.
   */
  async createClip(programId: string, input: unknown): Promise<AssetRecord> {
    const p = this.requireProgram(programId);
    const body = parseWith(ClipCreateSchema, input);
    let source: RecordingSource;
    let recorded: { start: number; end: number } | undefined;
    if (p.state === 'running') {
      source = { kind: 'channel', channelId: p.channelId };
      recorded = this.#runtime.programSpan(p);
    } else {
      const asset = p.assetId ? this.#store.getAsset(p.assetId) : undefined;
      if (!asset || asset.status !== 'ready' || asset.rangeStart === null || asset.rangeEnd === null) {
        throw new OnairError('program_not_running', 'the program has no recording to clip from (yet)');
      }
      source = { kind: 'asset', assetId: asset.id };
      recorded = { start: Date.parse(asset.rangeStart), end: Date.parse(asset.rangeEnd) };
    }
    if (!recorded || recorded.end <= recorded.start) {
      throw new OnairError('clip_out_of_range', 'the program has recorded nothing yet');
    }
    const start =
      body.start !== undefined
        ? Date.parse(body.start)
        : recorded.end - (body.startOffsetSeconds ?? 0) * 1000;
    const end =
      body.end !== undefined ? Date.parse(body.end) : recorded.end - (body.endOffsetSeconds ?? 0) * 1000;
    // A segment of slack at either end: the recorded range is segment-aligned, requests are not.
    const slack = CLIP_SLACK_MS;
    if (start < recorded.start - slack || end > recorded.end + slack) {
      throw new OnairError(
        'clip_out_of_range',
        `the clip (${new Date(start).toISOString()} to ${new Date(end).toISOString()}) is outside what the program recorded (${new Date(recorded.start).toISOString()} to ${new Date(recorded.end).toISOString()})`,
      );
    }
    const span: RecordedSpan | undefined = await this.#runtime.spanOf(source, start, end);
    if (!span || span.durationSeconds <= 0) {
      throw new OnairError('clip_out_of_range', 'no segment starts within that range');
    }
    const asset: AssetRecord = {
      id: newId('as'),
      programId: p.id,
      channelId: p.channelId,
      name: body.name,
      kind: 'clip',
      status: 'processing',
      published: true,
      durationSeconds: round3(span.durationSeconds),
      bytes: span.bytes,
      rangeStart: new Date(span.start).toISOString(),
      rangeEnd: new Date(span.end).toISOString(),
      createdAt: this.#iso(),
    };
    this.#store.insertAsset(asset);
    return this.#keep(asset, source);
  }

  deleteProgram(id: string): void {
    const p = this.requireProgram(id);
    if (p.state === 'running')
      throw new OnairError('program_running', 'program is running; stop it before deleting it');
    this.#store.deleteProgram(id);
  }

  programView(p: ProgramRecord, baseUrl: string): ProgramView {
    let durationSeconds = 0;
    let bytes = 0;
    if (p.state === 'running') {
      const span = this.#runtime.programSpan(p);
      durationSeconds = span?.durationSeconds ?? 0;
      bytes = span?.bytes ?? 0;
    } else if (p.assetId) {
      const a = this.#store.getAsset(p.assetId);
      durationSeconds = a?.durationSeconds ?? 0;
      bytes = a?.bytes ?? 0;
    }
    return {
      ...p,
      durationSeconds: round3(durationSeconds),
      bytes,
      urls: {
        hls: `${baseUrl}/programs/${p.id}/master.m3u8`,
        dash: `${baseUrl}/programs/${p.id}/manifest.mpd`,
        watch: `${baseUrl}/watch/programs/${p.id}`,
        embed: `${baseUrl}/embed/programs/${p.id}`,
      },
    };
  }

  // ── assets ────────────────────────────────────────────────────────────
  requireAsset(id: string): AssetRecord {
    const a = this.#store.getAsset(id);
    if (!a) throw OnairError.notFound('asset', id);
    return a;
  }

  listAssets(q: PageQuery): Page<AssetRecord> {
    const { items, total } = this.#store.listAssets(q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  patchAsset(id: string, input: unknown): AssetRecord {
    const a = this.requireAsset(id);
    const patch = parseWith(AssetPatchSchema, input);
    const next: AssetRecord = { ...a, ...stripUndefined(patch) };
    this.#store.updateAsset(next);
    this.#runtime.assetChanged(next);
    return next;
  }

  /** The asset's files grew by `bytes` (a download file was made). */
  assetGrew(assetId: string, bytes: number): void {
    const a = this.#store.getAsset(assetId);
    if (a) this.#store.updateAsset({ ...a, bytes: a.bytes + bytes });
  }

  /** Checks and forgets the asset at once (a 404 is thrown, not returned), then drops its media. */
  deleteAsset(id: string): Promise<void> {
    const a = this.requireAsset(id);
    this.#store.deleteAsset(id);
    return this.#runtime.deleteAsset(id).then(() =>
      this.recordEvent(a.channelId, 'asset.deleted', `asset ${a.id} ("${a.name}") deleted`, {
        assetId: a.id,
      }),
    );
  }

  assetView(a: AssetRecord, baseUrl: string): AssetView {
    return {
      ...a,
      urls: {
        hls: `${baseUrl}/vod/${a.id}/master.m3u8`,
        dash: `${baseUrl}/vod/${a.id}/manifest.mpd`,
        poster: `${baseUrl}/vod/${a.id}/poster.jpg`,
        download: `${baseUrl}/vod/${a.id}/download.mp4`,
        watch: `${baseUrl}/watch/assets/${a.id}`,
        embed: `${baseUrl}/embed/assets/${a.id}`,
      },
    };
  }

  // ── figures for /metrics ──────────────────────────────────────────────
  counts(): { channelsByState: Record<string, number>; programsRunning: number } {
    const channelsByState: Record<string, number> = { stopped: 0, starting: 0, running: 0, stopping: 0 };
    for (const c of this.#store.allChannels()) channelsByState[c.state] = (channelsByState[c.state] ?? 0) + 1;
    return { channelsByState, programsRunning: this.#store.countProgramsByState().running ?? 0 };
  }

  /** Channels whose viewers are restricted (a preview allow-list or token playback). */
  restrictedChannelIds(): Set<string> {
    return new Set(
      this.#store
        .allChannels()
        .filter((c) => c.preview.length > 0 || c.playback === 'token')
        .map((c) => c.id),
    );
  }

  listEvents(channelId: string, q: PageQuery) {
    this.requireChannel(channelId);
    const { items, total } = this.#store.listEvents(channelId, q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }
}

/** The RTMP and SRT URLs of a channel, on the host of `baseUrl` (none when that is relative). */
export function ingestUrls(
  baseUrl: string,
  ports: IngestPorts,
  c: Pick<ChannelRecord, 'streamKey' | 'srtPort' | 'srtBackupPort' | 'srtLatencyMs'>,
): {
  rtmp: string | null;
  rtmps: string | null;
  srt: string | null;
  rtmpBackup: string | null;
  srtBackup: string | null;
} {
  let host: string | undefined;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    host = undefined;
  }
  if (!host) return { rtmp: null, rtmps: null, srt: null, rtmpBackup: null, srtBackup: null };
  const withPort = (scheme: string, port: number, standard: number, app = 'live') =>
    `${scheme}://${host}${port === standard ? '' : `:${port}`}/${app}`;
  // FFmpeg's and OBS's form: latency in microseconds; the key is the passphrase (AES-128).
  const srt = (port: number | null) =>
    port === null || !ports.srtRange
      ? null
      : `srt://${host}:${port}?mode=caller&latency=${c.srtLatencyMs * 1000}&pbkeylen=16&passphrase=${encodeURIComponent(c.streamKey)}`;
  return {
    rtmp: ports.rtmp ? withPort('rtmp', ports.rtmp, 1935) : null,
    rtmps: ports.rtmps ? withPort('rtmps', ports.rtmps, 443) : null,
    srt: srt(c.srtPort),
    rtmpBackup: ports.rtmp ? withPort('rtmp', ports.rtmp, 1935, 'live-backup') : null,
    srtBackup: srt(c.srtBackupPort),
  };
}

/** How far a clip's range may reach beyond what was recorded (requests are not segment-aligned). */
const CLIP_SLACK_MS = 2000;

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

export type { ChannelCreate, ChannelPatch };
