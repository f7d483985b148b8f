/**
 * Assets on disk: each asset has its own folder under `media/assets/<id>/`
 * holding hard links to its segment files, a poster, and (once asked for) a
 * download MP4; its segment index lives in SQLite (owner = the asset id). The
 * origin reads assets through `media()`, which is cached: no database read per
 * segment request.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { KeptAsset } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import { hasAllFiles, linkView, readHlsRecording, sweepDir, viewFiles } from '../packager/archive.ts';
import { recordingOf, type Recording } from '../packager/live-output.ts';
import { spanView, type TimelineView } from '../packager/timeline.ts';
import type { AssetRecord, Store } from '../store/store.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import { remuxToMp4, type RemuxPart } from '../transcode/remux.ts';
import { makeThumbnail } from '../transcode/thumbnail.ts';
import { saveView, savedTimeline } from './timeline-journal.ts';

export const POSTER = 'poster.jpg';
export const DOWNLOAD = 'download.mp4';
const CACHE_SIZE = 200;

/** An asset as the origin serves it. */
export interface AssetMedia {
  record: AssetRecord;
  dir: string;
  view: TimelineView;
}

export interface AssetLibraryOptions {
  store: Store;
  mediaDir: string;
  ffmpegPath: string;
  /** Owns the poster and download-remux jobs. */
  children: ChildRegistry;
  log: Logger;
  /** An asset's files grew (its download MP4 was made): its new bytes. */
  onGrew?: (assetId: string, bytes: number) => void;
}

export class AssetLibrary {
  readonly #opts: AssetLibraryOptions;
  readonly #cache = new Map<string, AssetMedia>();
  readonly #downloads = new Map<string, Promise<string>>();
  #remuxQueue: Promise<unknown> = Promise.resolve();

  constructor(opts: AssetLibraryOptions) {
    this.#opts = opts;
  }

  dir(assetId: string): string {
    return path.join(this.#opts.mediaDir, 'assets', assetId);
  }

  /**
   * Keeps a recording as the asset's media: its index (saved first, in one
   * transaction), hard links to its files, a poster.
   */
  async keep(asset: AssetRecord, recording: Recording, fromDir: string): Promise<KeptAsset> {
    const dir = this.dir(asset.id);
    await saveView(this.#opts.store, asset.id, recording.view.runs);
    let bytes = await linkView(recording.view, fromDir, dir);
    bytes += await this.#poster(recording.view, dir);
    this.#cache.delete(asset.id);
    return { durationSeconds: recording.durationSeconds, bytes };
  }

  /** A poster from the middle of the recording, in its smallest video rendition (cheapest to decode). */
  async #poster(view: TimelineView, dir: string): Promise<number> {
    const run = view.runs[Math.floor((view.runs.length - 1) / 2)];
    const videos = [...(run?.tracks.values() ?? [])].filter((t) => t.info.kind === 'video');
    const track = videos.sort((a, b) => a.info.bandwidth - b.info.bandwidth)[0];
    const seg = track?.segments[Math.floor(track.segments.length / 2)];
    if (!track || !seg) return 0;
    const out = path.join(dir, POSTER);
    const made = await makeThumbnail(
      this.#opts,
      path.join(dir, track.initUri),
      path.join(dir, seg.uri),
      out,
      { width: 640 },
    );
    if (!made) this.#opts.log.warn({ dir }, 'no poster could be made');
    return made ? (await stat(out)).size : 0;
  }

  /** The asset's media, from the cache or the store. Undefined for an unknown asset. */
  async media(assetId: string): Promise<AssetMedia | undefined> {
    const cached = this.#cache.get(assetId);
    if (cached) {
      // Most recently used last.
      this.#cache.delete(assetId);
      this.#cache.set(assetId, cached);
      return cached;
    }
    const record = await this.#opts.store.assets.get(assetId);
    if (!record) return undefined;
    const view: TimelineView = { runs: savedTimeline(await this.#opts.store.timelines.load(assetId)) };
    const media: AssetMedia = { record, dir: this.dir(assetId), view };
    // Only finished assets are cached: a processing one changes.
    if (record.status !== 'processing') {
      this.#cache.set(assetId, media);
      if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return media;
  }

  /** [start, end) of an asset's recording, segment-accurate. */
  async recording(assetId: string, start: number, end: number): Promise<Recording | undefined> {
    const media = await this.media(assetId);
    if (!media) return undefined;
    return recordingOf(spanView(media.view, start, end));
  }

  /** The record changed (name, publishing): forget the cached copy. */
  invalidate(assetId: string): void {
    this.#cache.delete(assetId);
  }

  /** After a restart: is a kept asset complete (its index saved and every file there)? */
  async check(asset: AssetRecord): Promise<KeptAsset | undefined> {
    const view: TimelineView = { runs: savedTimeline(await this.#opts.store.timelines.load(asset.id)) };
    if (view.runs.length === 0 || !(await hasAllFiles(view, this.dir(asset.id)))) return undefined;
    const r = recordingOf(view);
    return { durationSeconds: r.durationSeconds, bytes: await dirBytes(this.dir(asset.id)) };
  }

  /** The asset as one MP4 (made once, on first request); resolves with its path. */
  download(assetId: string): Promise<string> {
    let job = this.#downloads.get(assetId);
    if (job) return job;
    const out = path.join(this.dir(assetId), DOWNLOAD);
    job = stat(out).then(
      () => out,
      async () => {
        const media = await this.media(assetId);
        if (!media) throw OnairError.notFound('asset', assetId);
        const parts = remuxParts(media.view, media.dir);
        if (parts.length === 0) {
          throw new OnairError(
            'not_found',
            `asset ${assetId} has no media to download (nothing was recorded)`,
          );
        }
        // One remux at a time: it is disk-bound, and players of other assets come first.
        const next = this.#remuxQueue.then(async () => {
          await remuxToMp4(this.#opts, parts, out);
          this.#opts.onGrew?.(assetId, (await stat(out)).size);
          return out;
        });
        this.#remuxQueue = next.catch(() => undefined);
        return next;
      },
    );
    job.catch(() => this.#downloads.delete(assetId));
    this.#downloads.set(assetId, job);
    return job;
  }

  async delete(assetId: string): Promise<void> {
    this.#cache.delete(assetId);
    await this.#downloads.get(assetId)?.catch(() => undefined);
    this.#downloads.delete(assetId);
    await this.#opts.store.timelines.delete(assetId);
    await rm(this.dir(assetId), { recursive: true, force: true });
  }

  /** An asset kept as HLS files before the segment index was durable: its index, read back from them. */
  async #importHls(assetId: string): Promise<TimelineView> {
    const dir = this.dir(assetId);
    if (!existsSync(path.join(dir, 'master.m3u8'))) return { runs: [] };
    try {
      const view = await readHlsRecording(dir);
      await saveView(this.#opts.store, assetId, view.runs);
      this.#opts.log.info({ assetId, runs: view.runs.length }, 'indexed an asset kept as HLS files');
      return view;
    } catch (err) {
      this.#opts.log.warn({ err, assetId }, 'an asset kept as HLS files could not be read');
      return { runs: [] };
    }
  }

  /**
   * After a restart: folders of deleted assets go, assets kept as HLS files get
   * an index, and files no asset index lists go.
   */
  async sweep(known: readonly string[]): Promise<void> {
    const root = path.join(this.#opts.mediaDir, 'assets');
    const ids = new Set(known);
    let names: string[];
    try {
      names = await readdir(root);
    } catch {
      return;
    }
    for (const name of names) {
      if (!ids.has(name)) {
        await rm(path.join(root, name), { recursive: true, force: true });
        continue;
      }
      let view: TimelineView = { runs: savedTimeline(await this.#opts.store.timelines.load(name)) };
      if (view.runs.length === 0) view = await this.#importHls(name);
      if (view.runs.length === 0) continue; // being kept: leave it
      const keep = new Set([...viewFiles(view), POSTER, DOWNLOAD]);
      const removed = await sweepDir(path.join(root, name), keep);
      if (removed.length > 0)
        this.#opts.log.info({ assetId: name, removed: removed.length }, 'asset left-overs removed');
    }
    for (const owner of await this.#opts.store.timelines.owners()) {
      if (owner.startsWith('as_') && !ids.has(owner)) await this.#opts.store.timelines.delete(owner);
    }
  }
}

/** The top video rendition and the audio of each run, as files for the remuxer. */
export function remuxParts(view: TimelineView, dir: string): RemuxPart[] {
  const parts: RemuxPart[] = [];
  for (const run of view.runs) {
    const tracks = [...run.tracks.values()];
    const video = tracks
      .filter((t) => t.info.kind === 'video')
      .sort((a, b) => b.info.bandwidth - a.info.bandwidth)[0];
    const audio = tracks.find((t) => t.info.kind === 'audio');
    if (!video) continue;
    const files = (t: typeof video) =>
      [t.initUri, ...t.segments.map((s) => s.uri)].map((u) => path.join(dir, u));
    const v0 = video.segments[0]?.pdt ?? 0;
    const a0 = audio?.segments[0]?.pdt ?? v0;
    parts.push({
      video: files(video),
      audio: audio ? files(audio) : undefined,
      audioOffsetSeconds: Math.round(a0 - v0) / 1000,
    });
  }
  return parts;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return n;
}
