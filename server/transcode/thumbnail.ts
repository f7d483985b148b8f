/**
 * Thumbnails and posters: one JPEG from a CMAF segment (init + media piped to
 * FFmpeg), written atomically.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { FfmpegTool } from './ffmpeg-tool.ts';

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

/**
 * One JPEG from a CMAF segment (its init and media piped to FFmpeg), written to
 * `outPath` atomically. Resolves true when the picture was made.
 */
export function makeThumbnail(
  tool: FfmpegTool,
  initPath: string,
  segmentPath: string,
  outPath: string,
  opts: { width?: number; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<boolean> {
  const tmp = `${outPath}.tmp.jpg`;
  const child = tool.children.add(
    spawn(tool.ffmpegPath, buildThumbnailArgs(tmp, opts.width), { stdio: ['pipe', 'ignore', 'ignore'] }),
    'thumbnail',
  );
  opts.onSpawn?.(child);
  child.on('error', () => undefined);
  child.stdin.on('error', () => undefined);
  const stdin = child.stdin;
  const init = createReadStream(initPath);
  init.on('error', () => stdin.end());
  init.on('end', () => {
    const seg = createReadStream(segmentPath);
    seg.on('error', () => stdin.end());
    seg.pipe(stdin);
  });
  init.pipe(stdin, { end: false });
  return new Promise((resolve) => {
    child.once('close', (code) => {
      if (code !== 0) {
        resolve(false);
        return;
      }
      rename(tmp, outPath).then(
        () => resolve(true),
        () => resolve(false),
      );
    });
  });
}

/** The live thumbnail of a channel: one process at a time, at most one picture per interval. */
export class Thumbnailer {
  readonly #tool: FfmpegTool;
  readonly #outPath: string;
  readonly #minIntervalMs: number;
  #child: ChildProcess | undefined;
  #lastAt = 0;
  #closed = false;
  #ready = false;

  constructor(tool: FfmpegTool, outPath: string, minIntervalMs = 5000) {
    this.#tool = tool;
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
    void makeThumbnail(this.#tool, initPath, segmentPath, this.#outPath, {
      onSpawn: (child) => {
        this.#child = child;
      },
    }).then((made) => {
      this.#child = undefined;
      if (made && !this.#closed) this.#ready = true;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child?.kill('SIGKILL');
  }
}
