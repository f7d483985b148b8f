/**
 * The channels' slate pictures (shown when every input is gone): a channel's own upload, PNG or
 * JPEG, kept under the data directory, or the default "We'll be right back" card.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnairError } from '../../lib/errors.ts';

/** The default slate: a "We'll be right back" card. */
const DEFAULT_SLATE = fileURLToPath(new URL('../../public/slate.png', import.meta.url));
const SLATE_TYPES = [
  { ext: 'png', magic: [0x89, 0x50, 0x4e, 0x47] },
  { ext: 'jpg', magic: [0xff, 0xd8, 0xff] },
] as const;

export class SlateImages {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'slates');
  }

  /** The picture for the channel: its own, or the default card. */
  path(channelId: string): string {
    for (const { ext } of SLATE_TYPES) {
      const file = path.join(this.#dir, `${channelId}.${ext}`);
      if (existsSync(file)) return file;
    }
    return DEFAULT_SLATE;
  }

  /** Keeps an uploaded image (PNG or JPEG) for the channel; used from the next slate on. */
  async set(channelId: string, image: Buffer): Promise<void> {
    const type = SLATE_TYPES.find((t) => t.magic.every((b, i) => image[i] === b));
    if (!type) throw new OnairError('unsupported_media_type', 'the slate must be a PNG or a JPEG image');
    await mkdir(this.#dir, { recursive: true });
    await this.delete(channelId);
    const file = path.join(this.#dir, `${channelId}.${type.ext}`);
    await writeFile(`${file}.tmp`, image);
    await rename(`${file}.tmp`, file);
  }

  async delete(channelId: string): Promise<void> {
    for (const t of SLATE_TYPES) await rm(path.join(this.#dir, `${channelId}.${t.ext}`), { force: true });
  }
}
