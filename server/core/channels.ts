/** The channel rules: create, change, start, stop, reset and delete, and what a channel looks like. */
import { OnairError } from '../../lib/errors.ts';
import {
  type Channel,
  type Page,
  type PageQuery,
  ChannelCreateSchema,
  ChannelPatchSchema,
} from '../../lib/schemas.ts';
import { parseWith } from '../../lib/validate.ts';
import { newId, newSecret } from '../store/ids.ts';
import type { ChannelEventRecord, ChannelRecord } from '../store/store.ts';
import { pageOf, stripUndefined, type ControlContext, type IngestPorts } from './control-context.ts';
import { channelConfig } from './runtime.ts';

export class Channels {
  readonly #x: ControlContext;
  /** Ends a channel's running programs (before it stops). */
  readonly #finishPrograms: (channelId: string) => Promise<void>;

  constructor(x: ControlContext, finishPrograms: (channelId: string) => Promise<void>) {
    this.#x = x;
    this.#finishPrograms = finishPrograms;
  }

  async view(c: ChannelRecord, baseUrl: string): Promise<Channel> {
    const { runtime } = this.#x;
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
        ...ingestUrls(baseUrl, this.#x.ingest, c),
        hls: `${baseUrl}/live/${c.id}/master.m3u8`,
        dash: `${baseUrl}/live/${c.id}/manifest.mpd`,
        watch: `${baseUrl}/watch/${c.id}`,
        embed: `${baseUrl}/embed/${c.id}`,
      },
      live: c.state === 'running' && runtime.isLive(c.id),
      bytes: await runtime.channelBytes(c.id),
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  async get(id: string): Promise<ChannelRecord> {
    const c = await this.#x.store.channels.get(id);
    if (!c) throw OnairError.notFound('channel', id);
    return c;
  }

  async create(input: unknown): Promise<ChannelRecord> {
    const body = parseWith(ChannelCreateSchema, input);
    const { store, limits } = this.#x;
    return this.#x.serial('channels', async () => {
      if ((await store.channels.count()) >= limits.maxChannels) {
        throw new OnairError(
          'channel_limit_reached',
          `this server keeps at most ${limits.maxChannels} channels (ONAIR_MAX_CHANNELS); delete one first`,
        );
      }
      const now = this.#x.iso();
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
        ...(await this.#freeSrtPorts()),
        createdAt: now,
        updatedAt: now,
      };
      await store.channels.insert(c);
      await this.#x.event(c.id, 'channel.created', `channel "${c.name}" created`);
      return c;
    });
  }

  async list(q: PageQuery): Promise<Page<ChannelRecord>> {
    return pageOf(q, this.#x.store.channels.list(q.limit, q.offset));
  }

  /** Checks `input` for the channel `id` (an unknown id is a 404 whatever the body), then applies it. */
  patch(id: string, input: unknown): Promise<ChannelRecord> {
    return this.#x.serial(id, async () => {
      const c = await this.get(id);
      const patch = parseWith(ChannelPatchSchema, input);
      if (c.state !== 'stopped') {
        for (const field of ['mode', 'ladder', 'segmentSeconds', 'srtLatencyMs'] as const) {
          if (patch[field] !== undefined && patch[field] !== c[field]) {
            throw new OnairError(
              'channel_running',
              `${field} cannot change while the channel is ${c.state}; stop it first`,
              { field },
            );
          }
        }
      }
      const next: ChannelRecord = { ...c, ...stripUndefined(patch), updatedAt: this.#x.iso() };
      await this.#x.store.channels.update(next);
      this.#x.runtime.updateChannel(channelConfig(next));
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    const { store, runtime, log } = this.#x;
    await this.#x.serial(id, async () => {
      const c = await this.get(id);
      if (c.state !== 'stopped') {
        throw new OnairError('channel_running', `channel is ${c.state}; stop it before deleting it`);
      }
      const running = await store.programs.ofChannel(id, 'running');
      if (running.length > 0) {
        throw new OnairError(
          'channel_has_running_programs',
          `channel has ${running.length} running program(s); stop them first`,
        );
      }
      await store.channels.delete(id); // programs and events cascade; assets stay: recordings are never lost
    });
    await runtime.deleteChannel(id);
    log.info({ channelId: id }, 'channel deleted');
  }

  /**
   * The two lowest SRT ports of the range no channel has (primary, backup), or
   * null for each that is not there (SRT off, or the range is used up).
   */
  async #freeSrtPorts(): Promise<{ srtPort: number | null; srtBackupPort: number | null }> {
    const range = this.#x.ingest.srtRange;
    const free: number[] = [];
    if (range) {
      const used = await this.#x.store.channels.usedSrtPorts();
      for (let p = range[0]; p <= range[1] && free.length < 2; p++) if (!used.has(p)) free.push(p);
    }
    return { srtPort: free[0] ?? null, srtBackupPort: free[1] ?? null };
  }

  async start(id: string): Promise<ChannelRecord> {
    const { store, runtime, limits } = this.#x;
    const claimed = await this.#x.serial(id, async () => {
      let c = await this.get(id);
      if ((c.srtPort === null || c.srtBackupPort === null) && this.#x.ingest.srtRange) {
        // Channels made before SRT (or when the range was full) get their ports when they start.
        const free = await this.#x.serial('channels', () => this.#freeSrtPorts());
        const srtPort = c.srtPort ?? free.srtPort;
        const srtBackupPort = c.srtBackupPort ?? (c.srtPort === null ? free.srtBackupPort : free.srtPort);
        if (srtPort !== c.srtPort || srtBackupPort !== c.srtBackupPort) {
          c = { ...c, srtPort, srtBackupPort };
          await store.channels.update(c);
        }
      }
      if (c.state === 'running') return { c, started: false };
      if (c.state !== 'stopped')
        throw new OnairError('channel_busy', `channel is ${c.state}; try again in a moment`);
      if ((await store.channels.countActive()) >= limits.maxRunningChannels) {
        throw new OnairError(
          'running_channel_limit_reached',
          `this server runs at most ${limits.maxRunningChannels} channels at once (ONAIR_MAX_RUNNING_CHANNELS); stop one first`,
        );
      }
      return { c: await this.#setState(c, 'starting'), started: true };
    });
    const c = claimed.c;
    if (!claimed.started) return c;
    try {
      await runtime.startChannel(channelConfig(c));
    } catch (err) {
      await this.#setState(c, 'stopped');
      await this.#x.event(c.id, 'channel.start_failed', `channel failed to start: ${(err as Error).message}`);
      throw new OnairError('unavailable', `channel failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const running = await this.#setState(c, 'running');
    // Programs still running (after a server restart) keep their windows.
    for (const p of await store.programs.ofChannel(c.id, 'running')) runtime.programStarted(p);
    await this.#x.event(c.id, 'channel.started', 'channel started; waiting for a publisher');
    return running;
  }

  async stop(id: string): Promise<ChannelRecord> {
    const c = await this.#x.serial(id, async () => {
      const c = await this.get(id);
      if (c.state === 'stopped') return undefined;
      if (c.state === 'stopping') throw new OnairError('channel_busy', 'channel is already stopping');
      // A stopping channel ends its programs first, so every recording is closed and kept.
      await this.#finishPrograms(id);
      return this.#setState(c, 'stopping');
    });
    if (!c) return this.get(id);
    try {
      await this.#x.runtime.stopChannel(id);
    } finally {
      await this.#setState(c, 'stopped');
    }
    await this.#x.event(c.id, 'channel.stopped', 'channel stopped');
    return this.get(id);
  }

  async reset(id: string): Promise<ChannelRecord> {
    const next = await this.#x.serial(id, async () => {
      const c = await this.get(id);
      if (c.state === 'starting' || c.state === 'stopping') {
        throw new OnairError('channel_busy', `channel is ${c.state}; try again in a moment`);
      }
      const next: ChannelRecord = { ...c, streamKey: newSecret('sk'), updatedAt: this.#x.iso() };
      await this.#x.store.channels.update(next);
      await this.#x.store.events.clear(id);
      return next;
    });
    await this.#x.runtime.resetChannel(channelConfig(next));
    await this.#x.event(id, 'channel.reset', 'stream key rotated; runtime state cleared');
    return next;
  }

  /** After a restart: channels that were running come back running. */
  async restore(): Promise<void> {
    for (const c of await this.#x.store.channels.all()) {
      if (c.state === 'stopping') await this.#setState(c, 'stopped');
      if (c.state === 'running' || c.state === 'starting') {
        await this.#setState(c, 'stopped');
        try {
          await this.start(c.id);
          this.#x.log.info({ channelId: c.id }, 'channel restored');
        } catch (err) {
          this.#x.log.error({ channelId: c.id, err }, 'channel could not be restored');
        }
      }
    }
  }

  /** Writes the new state and returns the new row; rows are values, never shared. */
  async #setState(c: ChannelRecord, state: ChannelRecord['state']): Promise<ChannelRecord> {
    // The row as it is now: a rename while the channel was starting or stopping is kept.
    const current = (await this.#x.store.channels.get(c.id)) ?? c;
    const next = { ...current, state, updatedAt: this.#x.iso() };
    await this.#x.store.channels.update(next);
    return next;
  }

  async events(channelId: string, q: PageQuery): Promise<Page<ChannelEventRecord>> {
    await this.get(channelId);
    return pageOf(q, this.#x.store.events.list(channelId, q.limit, q.offset));
  }

  // ── figures for /metrics ──────────────────────────────────────────────
  async counts(): Promise<{ channelsByState: Record<string, number>; programsRunning: number }> {
    const channelsByState: Record<string, number> = { stopped: 0, starting: 0, running: 0, stopping: 0 };
    for (const c of await this.#x.store.channels.all())
      channelsByState[c.state] = (channelsByState[c.state] ?? 0) + 1;
    return { channelsByState, programsRunning: (await this.#x.store.programs.countByState()).running ?? 0 };
  }

  /** Channels whose viewers are restricted (a preview allow-list or token playback). */
  async restrictedIds(): Promise<Set<string>> {
    const all = await this.#x.store.channels.all();
    return new Set(all.filter((c) => c.preview.length > 0 || c.playback === 'token').map((c) => c.id));
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
