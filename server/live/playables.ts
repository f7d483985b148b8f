/**
 * What programs and assets play from, and who may watch them: a running program plays its DVR
 * window from its channel's output, a stopped one its asset. A running program is watched by whom its
 * channel lets watch it now; an asset by whom its channel let watch it when it was made (copied onto
 * the asset: a deleted channel never widens it). Caches what it looks up, bounded.
 */
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { Playable } from '../origin/origin.ts';
import type { ProgramRecord, Store } from '../store/store.ts';
import { POSTER, type AssetLibrary } from './asset-library.ts';
import type { ChannelHub } from './channel-hub.ts';
import { DvrPlayback, VodPlayback } from '../origin/playback-sources.ts';

const CACHE_LIMIT = 1000;

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

  constructor(deps: PlayablesDeps) {
    this.#deps = deps;
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
    if (!r.access) {
      throw new OnairError('forbidden', `asset ${assetId} has no playback settings (its channel is gone)`);
    }
    const source = new VodPlayback({
      id: r.id,
      name: r.name,
      dir: media.dir,
      view: media.view,
      poster: path.join(media.dir, POSTER),
      download: () => this.#deps.library.download(r.id),
    });
    return {
      preview: r.access.preview,
      playback: r.access.playback,
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
