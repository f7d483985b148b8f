/**
 * What programs and assets play from, and who may watch them: a running program plays its DVR
 * window from its channel's output, a stopped one its asset; access follows the channel's
 * preview allow-list and playback mode. Caches what it looks up, bounded.
 */
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { PlaybackMode } from '../../lib/schemas.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import type { Playable } from '../origin/origin.ts';
import type { ProgramRecord, Store } from '../store/store.ts';
import { POSTER, type AssetLibrary } from './asset-library.ts';
import type { ChannelHub } from './channel-hub.ts';
import { DvrPlayback, VodPlayback } from '../origin/playback-sources.ts';

const CACHE_LIMIT = 1000;

interface ChannelAccess {
  readonly preview: readonly string[];
  readonly playback: PlaybackMode;
}

export interface PlayablesDeps {
  store: Store;
  library: AssetLibrary;
  /** The hub of a running channel. */
  hub(channelId: string): ChannelHub | undefined;
}

export class Playables {
  readonly #deps: PlayablesDeps;
  /** Running programs → their channel; stopped programs → their asset. Filled as programs come and go. */
  readonly #programChannels = new Map<string, string>();
  readonly #programAssets = new Map<string, string | null>();
  readonly #programNames = new Map<string, string>();
  /** Who may watch each channel (preview allow-list, playback mode), for playback of programs and assets. */
  readonly #access = new Map<string, ChannelAccess>();

  constructor(deps: PlayablesDeps) {
    this.#deps = deps;
  }

  setAccess(config: ChannelConfig): void {
    this.#access.set(config.id, { preview: config.preview, playback: config.playback });
  }

  programStarted(program: ProgramRecord): void {
    this.#programChannels.set(program.id, program.channelId);
    this.#programNames.set(program.id, program.name);
    this.#programAssets.delete(program.id);
  }

  programStopped(program: ProgramRecord): void {
    this.#programChannels.delete(program.id);
    this.#programNames.delete(program.id);
    this.#programAssets.delete(program.id);
  }

  channelStopped(channelId: string): void {
    for (const [programId, ch] of this.#programChannels)
      if (ch === channelId) this.#programChannels.delete(programId);
  }

  assetDeleted(assetId: string): void {
    for (const [programId, a] of this.#programAssets)
      if (a === assetId) this.#programAssets.delete(programId);
  }

  async #channelAccess(channelId: string): Promise<ChannelAccess> {
    let access = this.#access.get(channelId);
    if (!access) {
      // A deleted channel's recordings stay public.
      const c = await this.#deps.store.channels.get(channelId);
      access = { preview: c?.preview ?? [], playback: c?.playback ?? 'public' };
      if (this.#access.size > CACHE_LIMIT) this.#access.clear();
      this.#access.set(channelId, access);
    }
    return access;
  }

  /** An asset's playback, when it is published and ready. */
  async asset(assetId: string): Promise<Playable | undefined> {
    const media = await this.#deps.library.media(assetId);
    if (!media || !media.record.published) return undefined;
    if (media.record.status !== 'ready') {
      throw new OnairError(
        'not_found',
        `asset ${assetId} is ${media.record.status === 'failed' ? 'broken' : 'being prepared'}`,
      );
    }
    const r = media.record;
    const source = new VodPlayback({
      id: r.id,
      name: r.name,
      dir: media.dir,
      view: media.view,
      poster: path.join(media.dir, POSTER),
      download: () => this.#deps.library.download(r.id),
    });
    return {
      ...(await this.#channelAccess(r.channelId)),
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

  /** A program's playback: its DVR window while it runs, its asset once it has stopped. */
  async program(programId: string): Promise<Playable | undefined> {
    const channelId = this.#programChannels.get(programId);
    const hub = channelId ? this.#deps.hub(channelId) : undefined;
    if (hub?.programs.has(programId)) {
      const recording = hub.programs.recording(programId);
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
      const program = await this.#deps.store.programs.get(programId);
      if (!program) return undefined;
      if (program.state === 'running') {
        throw new OnairError('channel_not_running', 'the program is running but its channel is offline');
      }
      assetId = program.assetId;
      if (this.#programAssets.size > CACHE_LIMIT) this.#programAssets.clear();
      this.#programAssets.set(programId, assetId);
    }
    if (assetId === null) throw new OnairError('not_found', 'the program has not recorded anything yet');
    const asset = await this.asset(assetId);
    return asset && { ...asset, info: { ...asset.info, id: programId, kind: 'program' } };
  }
}
