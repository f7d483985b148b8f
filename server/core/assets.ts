/** The asset rules: recordings kept in the background, published or not, deleted with their media. */
import { OnairError } from '../../lib/errors.ts';
import { type AssetView, type Page, type PageQuery, AssetPatchSchema } from '../../lib/schemas.ts';
import { parseWith } from '../../lib/validate.ts';
import type { AssetRecord } from '../store/store.ts';
import { pageOf, round3, stripUndefined, type ControlContext } from './control-context.ts';
import type { RecordingSource } from './runtime.ts';

export class Assets {
  readonly #x: ControlContext;

  constructor(x: ControlContext) {
    this.#x = x;
  }

  async get(id: string): Promise<AssetRecord> {
    const a = await this.#x.store.assets.get(id);
    if (!a) throw OnairError.notFound('asset', id);
    return a;
  }

  async list(q: PageQuery): Promise<Page<AssetRecord>> {
    return pageOf(q, this.#x.store.assets.list(q.limit, q.offset));
  }

  /** Checks `input` for the asset `id` (an unknown id is a 404 whatever the body), then applies it. */
  patch(id: string, input: unknown): Promise<AssetRecord> {
    return this.#x.serial(id, async () => {
      const a = await this.get(id);
      const patch = parseWith(AssetPatchSchema, input);
      const next: AssetRecord = { ...a, ...stripUndefined(patch) };
      await this.#x.store.assets.update(next);
      this.#x.runtime.assetChanged(next);
      return next;
    });
  }

  /** The asset's files grew by `bytes` (a download file was made). */
  grew(assetId: string, bytes: number): Promise<void> {
    return this.#x.serial(assetId, async () => {
      const a = await this.#x.store.assets.get(assetId);
      if (a) await this.#x.store.assets.update({ ...a, bytes: a.bytes + bytes });
    });
  }

  /** Checks and forgets the asset at once (a 404 is thrown, not returned), then drops its media. */
  async delete(id: string): Promise<void> {
    const a = await this.#x.serial(id, async () => {
      const a = await this.get(id);
      await this.#x.store.assets.delete(id);
      return a;
    });
    await this.#x.runtime.deleteAsset(id);
    await this.#x.eventIfChannel(a.channelId, 'asset.deleted', `asset ${a.id} ("${a.name}") deleted`, {
      assetId: a.id,
    });
  }

  /** Keeps an asset's media; its row says `ready` (or `failed`) when done. */
  keep(asset: AssetRecord, source: RecordingSource): Promise<AssetRecord> {
    const settle = (change: Partial<AssetRecord>) =>
      this.#x.serial(asset.id, async () => {
        const now = await this.#x.store.assets.get(asset.id);
        const next: AssetRecord = { ...(now ?? asset), ...change };
        if (now) await this.#x.store.assets.update(next);
        return next;
      });
    return this.#x.runtime.keepAsset(asset, source).then(
      async (kept) => {
        const ready = await settle({
          status: 'ready',
          bytes: kept.bytes,
          durationSeconds: round3(kept.durationSeconds),
        });
        await this.#x.eventIfChannel(
          asset.channelId,
          'asset.ready',
          `asset ${asset.id} ("${asset.name}") is ready`,
          {
            assetId: asset.id,
          },
        );
        return ready;
      },
      async (err: unknown) => {
        const failed = await settle({ status: 'failed' });
        this.#x.log.error({ err, assetId: asset.id }, 'asset could not be kept');
        await this.#x.eventIfChannel(
          asset.channelId,
          'asset.failed',
          `asset ${asset.id} could not be kept: ${(err as Error).message}`,
        );
        return failed;
      },
    );
  }

  /** After a restart: assets being kept are checked; media no asset owns is swept. */
  async restore(): Promise<void> {
    const { store, runtime, log } = this.#x;
    const assets = await store.assets.all();
    await runtime.sweepAssets(assets.map((a) => a.id));
    for (const a of assets.filter((x) => x.status === 'processing')) {
      const kept = await runtime.checkAsset(a);
      await store.assets.update(
        kept
          ? { ...a, status: 'ready', bytes: kept.bytes, durationSeconds: round3(kept.durationSeconds) }
          : { ...a, status: 'failed' },
      );
      log.info({ assetId: a.id, kept: kept !== undefined }, 'asset checked after a restart');
    }
  }

  view(record: AssetRecord, baseUrl: string): AssetView {
    const { access: _access, ...a } = record;
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
}
