/**
 * Playlists and MPDs rendered once per timeline change: every request for the same thing at the same
 * timeline version shares one body and its ETag. Bounded by count (a few entries per running channel,
 * program and asset), oldest first out. One per origin, owned by whoever serves it.
 */
import { createHash } from 'node:crypto';

export interface Rendered {
  version: number;
  /** UTF-8, encoded once: sending a string would encode it again for every request. */
  body: Buffer;
  etag: string;
}

export class Renderings {
  readonly #max: number;
  readonly #items = new Map<string, Rendered>();

  constructor(max = 2000) {
    this.#max = max;
  }

  get size(): number {
    return this.#items.size;
  }

  /** The rendering of `key` at `version`, rendered now when it changed or was never asked for. */
  get(key: string, version: number, render: () => string): Rendered {
    const hit = this.#items.get(key);
    if (hit && hit.version === version) return hit;
    const body = Buffer.from(render(), 'utf8');
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
    const r = { version, body, etag };
    this.#items.delete(key);
    this.#items.set(key, r);
    if (this.#items.size > this.#max) {
      const oldest = this.#items.keys().next().value;
      if (oldest !== undefined) this.#items.delete(oldest);
    }
    return r;
  }
}
