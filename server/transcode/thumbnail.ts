/**
 * Thumbnails: one JPEG from a CMAF segment (init + media piped to FFmpeg),
 * written atomically. One process at a time; `close()` kills a running one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';

export function buildThumbnailArgs(outPath: string, width = 320): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'mp4',
    '-i',
    'pipe:0',
    '-frames:v',
    '1',
    '-vf',
    `scale=${width}:-2`,
    '-q:v',
    '5',
    '-f',
    'image2',
    '-y',
    outPath,
  ];
}

export class Thumbnailer {
  readonly #ffmpegPath: string;
  readonly #outPath: string;
  readonly #minIntervalMs: number;
  #child: ChildProcess | undefined;
  #lastAt = 0;
  #closed = false;
  #ready = false;

  constructor(ffmpegPath: string, outPath: string, minIntervalMs = 5000) {
    this.#ffmpegPath = ffmpegPath;
    this.#outPath = outPath;
    this.#minIntervalMs = minIntervalMs;
  }

  get path(): string | undefined {
    return this.#ready ? this.#outPath : undefined;
  }

  /** Makes a thumbnail from this segment unless one was made recently or is in progress. */
  offer(initPath: string, segmentPath: string): void {
    if (this.#closed || this.#child || Date.now() - this.#lastAt < this.#minIntervalMs) return;
    this.#lastAt = Date.now();
    const tmp = `${this.#outPath}.tmp.jpg`;
    const child = spawn(this.#ffmpegPath, buildThumbnailArgs(tmp), { stdio: ['pipe', 'ignore', 'ignore'] });
    this.#child = child;
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.once('exit', (code) => {
      this.#child = undefined;
      if (code === 0 && !this.#closed) {
        rename(tmp, this.#outPath).then(
          () => (this.#ready = true),
          () => undefined,
        );
      }
    });
    const stdin = child.stdin;
    const init = createReadStream(initPath);
    init.on('error', () => stdin.end());
    init.on('end', () => {
      const seg = createReadStream(segmentPath);
      seg.on('error', () => stdin.end());
      seg.pipe(stdin);
    });
    init.pipe(stdin, { end: false });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child?.kill('SIGKILL');
  }
}
