/**
 * Channels, programs and assets: the state rules of onair's control model
 * (after Azure Media Services' live streaming). Routes call this; it calls the
 * store for rows and the runtime for media.
 */
import { OnairError } from '../../lib/errors.ts';
import {
  MAX_RUNNING_PROGRAMS,
  type Asset,
  type Channel,
  type ChannelCreate,
  type ChannelPatch,
  type Page,
  type PageQuery,
  type Program,
  type ProgramCreate,
  ChannelCreateSchema,
  ChannelPatchSchema,
  ProgramCreateSchema,
} from '../../lib/schemas.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import { parseWith } from '../../lib/validate.ts';
import type { Logger } from '../log.ts';
import { newId, newSecret } from '../store/ids.ts';
import type { AssetRecord, ChannelRecord, ProgramRecord, Store } from '../store/store.ts';
import { channelConfig, type ChannelRuntime } from './runtime.ts';

export interface ControlPlaneDeps {
  store: Store;
  runtime: ChannelRuntime;
  log: Logger;
  now?: () => Date;
}

export class ControlPlane {
  readonly #store: Store;
  readonly #runtime: ChannelRuntime;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(deps: ControlPlaneDeps) {
    this.#store = deps.store;
    this.#runtime = deps.runtime;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
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
      urls: {
        whip: `${baseUrl}/whip/${c.id}`,
        whep: `${baseUrl}/whep/${c.id}`,
        hls: `${baseUrl}/live/${c.id}/master.m3u8`,
        dash: `${baseUrl}/live/${c.id}/manifest.mpd`,
        watch: `${baseUrl}/watch/${c.id}`,
        embed: `${baseUrl}/embed/${c.id}`,
      },
      live: c.state === 'running' && this.#runtime.isLive(c.id),
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
      for (const field of ['mode', 'ladder', 'segmentSeconds'] as const) {
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

  async startChannel(id: string): Promise<ChannelRecord> {
    const c = this.requireChannel(id);
    if (c.state === 'running') return c;
    if (c.state !== 'stopped')
      throw new OnairError('channel_busy', `channel is ${c.state}; try again in a moment`);
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

  /** After a restart: channels that were running come back running. */
  async restore(): Promise<void> {
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

  #event(channelId: string, type: ChannelEventType, message: string): void {
    this.#store.insertEvent(channelId, type, message, this.#iso());
    this.#log.info({ channelId, event: type }, message);
  }

  recordEvent(channelId: string, type: ChannelEventType, message: string): void {
    if (this.#store.getChannel(channelId)) this.#event(channelId, type, message);
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
    this.#event(c.id, 'program.started', `program "${p.name}" started`);
    return next;
  }

  stopProgram(id: string): ProgramRecord {
    const p = this.requireProgram(id);
    if (p.state === 'stopped') return p;
    return this.#finishProgram(p);
  }

  #finishProgram(p: ProgramRecord): ProgramRecord {
    const stoppedAt = this.#iso();
    const assetId = newId('as');
    const summary = this.#runtime.programStopped(p, assetId);
    const asset: AssetRecord = {
      id: assetId,
      programId: p.id,
      channelId: p.channelId,
      name: p.name,
      durationSeconds: Math.round(summary.durationSeconds * 1000) / 1000,
      bytes: summary.bytes,
      createdAt: stoppedAt,
    };
    const next: ProgramRecord = { ...p, state: 'stopped', stoppedAt, assetId: asset.id };
    this.#store.transaction(() => {
      this.#store.insertAsset(asset);
      this.#store.updateProgram(next);
    });
    this.#event(p.channelId, 'program.stopped', `program "${p.name}" stopped; asset ${asset.id} created`);
    return next;
  }

  deleteProgram(id: string): void {
    const p = this.requireProgram(id);
    if (p.state === 'running')
      throw new OnairError('program_running', 'program is running; stop it before deleting it');
    this.#store.deleteProgram(id);
  }

  programView(p: ProgramRecord): Program {
    return { ...p };
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

  /** Checks and forgets the asset at once (a 404 is thrown, not returned), then drops its media. */
  deleteAsset(id: string): Promise<void> {
    this.requireAsset(id);
    this.#store.deleteAsset(id);
    return this.#runtime.deleteAsset(id);
  }

  assetView(a: AssetRecord): Asset {
    return { ...a };
  }

  // ── figures for /metrics ──────────────────────────────────────────────
  counts(): { channelsByState: Record<string, number>; programsRunning: number } {
    const channelsByState: Record<string, number> = { stopped: 0, starting: 0, running: 0, stopping: 0 };
    for (const c of this.#store.allChannels()) channelsByState[c.state] = (channelsByState[c.state] ?? 0) + 1;
    return { channelsByState, programsRunning: this.#store.countProgramsByState().running ?? 0 };
  }

  listEvents(channelId: string, q: PageQuery) {
    this.requireChannel(channelId);
    const { items, total } = this.#store.listEvents(channelId, q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

export type { ChannelCreate, ChannelPatch };
