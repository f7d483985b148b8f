/**
 * Hot media in memory: an LRU bounded by bytes over immutable files (segments,
 * parts, init segments). Live viewers all ask for the same few newest objects,
 * so nearly every request is served from here without a filesystem call.
 * Keys are absolute paths (run and asset folders are never reused).
 */
import { readFile, stat } from 'node:fs/promises';

export interface CachedFile {
  body: Buffer;
  etag: string;
}

export interface FileCacheOptions {
  maxBytes: number;
  /** Larger files are not kept (downloads, long VOD segments). */
  maxItemBytes: number;
}

export function fileEtag(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

export class FileCache {
  readonly #opts: FileCacheOptions;
  readonly #items = new Map<string, CachedFile>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(opts: FileCacheOptions) {
    this.#opts = opts;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): CachedFile | undefined {
    const item = this.#items.get(key);
    if (!item) return undefined;
    // Most recently used last.
    this.#items.delete(key);
    this.#items.set(key, item);
    this.hits++;
    return item;
  }

  set(key: string, item: CachedFile): void {
    if (this.#opts.maxBytes <= 0 || item.body.length > this.#opts.maxItemBytes) return;
    const old = this.#items.get(key);
    if (old) {
      this.#bytes -= old.body.length;
      this.#items.delete(key);
    }
    this.#items.set(key, item);
    this.#bytes += item.body.length;
    for (const [k, v] of this.#items) {
      if (this.#bytes <= this.#opts.maxBytes) break;
      this.#items.delete(k);
      this.#bytes -= v.body.length;
    }
  }

  /**
   * A whole immutable file, from memory or read now (and kept when small enough).
   * Undefined when it does not exist or is too large to keep (serve it streamed).
   */
  async file(path: string): Promise<CachedFile | undefined> {
    const hit = this.get(path);
    if (hit) return hit;
    this.misses++;
    let st;
    try {
      st = await stat(path);
    } catch {
      return undefined;
    }
    if (!st.isFile() || st.size > this.#opts.maxItemBytes) return undefined;
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return undefined;
    }
    const item = { body, etag: fileEtag(body.length, st.mtimeMs) };
    this.set(path, item);
    return item;
  }
}
