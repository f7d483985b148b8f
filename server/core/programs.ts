/** The program rules: a recording window on a running channel that becomes an asset when it stops; clips. */
import { OnairError } from '../../lib/errors.ts';
import {
  MAX_RUNNING_PROGRAMS,
  type Page,
  type PageQuery,
  type ProgramCreate,
  type ProgramView,
  ClipCreateSchema,
  ProgramCreateSchema,
} from '../../lib/schemas.ts';
import { parseWith } from '../../lib/validate.ts';
import { newId } from '../store/ids.ts';
import type { AssetAccess, AssetRecord, ProgramRecord } from '../store/store.ts';
import type { Assets } from './assets.ts';
import type { Channels } from './channels.ts';
import { pageOf, round3, type ControlContext } from './control-context.ts';
import type { RecordedSpan, RecordingSource } from './runtime.ts';

/** How far a clip's range may reach beyond what was recorded (requests are not segment-aligned). */
const CLIP_SLACK_MS = 2000;

export class Programs {
  readonly #x: ControlContext;
  readonly #channels: () => Channels;
  readonly #assets: Assets;

  constructor(x: ControlContext, channels: () => Channels, assets: Assets) {
    this.#x = x;
    this.#channels = channels;
    this.#assets = assets;
  }

  async get(id: string): Promise<ProgramRecord> {
    const p = await this.#x.store.programs.get(id);
    if (!p) throw OnairError.notFound('program', id);
    return p;
  }

  async create(channelId: string, input: unknown): Promise<ProgramRecord> {
    await this.#channels().get(channelId);
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
      createdAt: this.#x.iso(),
    };
    await this.#x.store.programs.insert(p);
    return p;
  }

  async list(channelId: string, q: PageQuery): Promise<Page<ProgramRecord>> {
    await this.#channels().get(channelId);
    return pageOf(q, this.#x.store.programs.list(channelId, q.limit, q.offset));
  }

  start(id: string): Promise<ProgramRecord> {
    return this.#x.serial(id, async () => {
      const p = await this.get(id);
      if (p.state === 'running') return p;
      const c = await this.#channels().get(p.channelId);
      if (c.state !== 'running') {
        throw new OnairError(
          'channel_not_running',
          `channel is ${c.state}; a program starts only on a running channel`,
        );
      }
      if (p.assetId !== null) {
        throw new OnairError(
          'program_finished',
          'program has already recorded an asset; create a new program',
        );
      }
      const running = (await this.#x.store.programs.ofChannel(c.id, 'running')).length;
      if (running >= MAX_RUNNING_PROGRAMS) {
        throw new OnairError(
          'program_limit_reached',
          `a channel runs at most ${MAX_RUNNING_PROGRAMS} programs at once`,
        );
      }
      const next: ProgramRecord = { ...p, state: 'running', startedAt: this.#x.iso(), stoppedAt: null };
      await this.#x.store.programs.update(next);
      this.#x.runtime.programStarted(next);
      await this.#x.event(c.id, 'program.started', `program "${p.name}" started`, { programId: p.id });
      return next;
    });
  }

  stop(id: string): Promise<ProgramRecord> {
    return this.#x.serial(id, async () => {
      const p = await this.get(id);
      if (p.state !== 'running') {
        throw new OnairError('program_not_running', `program is ${p.state}; only a running program stops`);
      }
      return this.#finish(p);
    });
  }

  /** Ends every running program of a channel (it is stopping). */
  async finishAll(channelId: string): Promise<void> {
    for (const p of await this.#x.store.programs.ofChannel(channelId, 'running')) {
      await this.#x.serial(p.id, async () => {
        const now = await this.#x.store.programs.get(p.id);
        if (now?.state === 'running') await this.#finish(now);
      });
    }
  }

  /** Who may watch an asset made now from the channel's output: whom the channel lets watch it. */
  async #accessOf(channelId: string): Promise<AssetAccess | null> {
    const c = await this.#x.store.channels.get(channelId);
    return c ? { preview: [...c.preview], playback: c.playback } : null;
  }

  /** Ends a program: what its window holds becomes an asset, kept in the background. */
  async #finish(p: ProgramRecord): Promise<ProgramRecord> {
    const { runtime } = this.#x;
    const access = await this.#accessOf(p.channelId);
    const stoppedAt = this.#x.iso();
    const span = runtime.programSpan(p);
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
      access,
    };
    const next: ProgramRecord = { ...p, state: 'stopped', stoppedAt, assetId: asset.id };
    await this.#x.store.programs.finish(next, asset);
    if (span) void this.#assets.keep(asset, { kind: 'channel', channelId: p.channelId });
    runtime.programStopped(p);
    await this.#x.event(
      p.channelId,
      'program.stopped',
      `program "${p.name}" stopped; asset ${asset.id} created`,
      { programId: p.id, assetId: asset.id },
    );
    return next;
  }

  /**
   * A clip of a program's recording, made by reference to its segments:
   * segment-accurate (every segment that starts in the range), in well under a second.
   */
  async clip(programId: string, input: unknown): Promise<AssetRecord> {
    const p = await this.get(programId);
    const body = parseWith(ClipCreateSchema, input);
    let source: RecordingSource;
    let recorded: { start: number; end: number } | undefined;
    // A clip is watched by whom its source lets watch it.
    let access: AssetAccess | null;
    if (p.state === 'running') {
      source = { kind: 'channel', channelId: p.channelId };
      recorded = this.#x.runtime.programSpan(p);
      access = await this.#accessOf(p.channelId);
    } else {
      const asset = p.assetId ? await this.#x.store.assets.get(p.assetId) : undefined;
      if (!asset || asset.status !== 'ready' || asset.rangeStart === null || asset.rangeEnd === null) {
        throw new OnairError('program_not_running', 'the program has no recording to clip from (yet)');
      }
      source = { kind: 'asset', assetId: asset.id };
      access = asset.access;
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
    const span: RecordedSpan | undefined = await this.#x.runtime.spanOf(source, start, end);
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
      createdAt: this.#x.iso(),
      access,
    };
    await this.#x.store.assets.insert(asset);
    return this.#assets.keep(asset, source);
  }

  delete(id: string): Promise<void> {
    return this.#x.serial(id, async () => {
      const p = await this.get(id);
      if (p.state === 'running')
        throw new OnairError('program_running', 'program is running; stop it before deleting it');
      await this.#x.store.programs.delete(id);
    });
  }

  async view(p: ProgramRecord, baseUrl: string): Promise<ProgramView> {
    let durationSeconds = 0;
    let bytes = 0;
    if (p.state === 'running') {
      const span = this.#x.runtime.programSpan(p);
      durationSeconds = span?.durationSeconds ?? 0;
      bytes = span?.bytes ?? 0;
    } else if (p.assetId) {
      const a = await this.#x.store.assets.get(p.assetId);
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
}
