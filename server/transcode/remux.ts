/**
 * A recording as one MP4 file, remuxed (never re-encoded): each run's video
 * and audio CMAF files are piped to FFmpeg as two fragmented-MP4 streams
 * (init + segments, byte after byte) and copied into a plain MP4 with its
 * index at the front (`+faststart`, so players and download managers can seek).
 * Several runs (a publisher that came back) become parts joined by FFmpeg's
 * concat demuxer. The file is written under a temporary name and renamed.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaError } from '../media/errors.ts';
import type { FfmpegTool } from './ffmpeg-tool.ts';

/** One run of a recording: the files of one video track and, optionally, of one audio track. */
export interface RemuxPart {
  /** init segment first, then media segments in order (absolute paths). */
  video: readonly string[];
  audio: readonly string[] | undefined;
  /**
   * Where the audio starts relative to the video, in seconds (each input's
   * timestamps are otherwise taken from zero, which would shift the sound).
   */
  audioOffsetSeconds: number;
}

/** Every job: no banner, no keyboard, errors only, the output overwritten. */
const QUIET_OVERWRITE = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'] as const;

/** argv to copy one part (video on stdin, audio on fd 3) into `out`. */
export function buildRemuxPartArgs(
  part: Pick<RemuxPart, 'audio' | 'audioOffsetSeconds'>,
  out: string,
  faststart: boolean,
): string[] {
  const hasAudio = part.audio !== undefined;
  // The later input is delayed by the difference: offsets are never negative.
  const offset = (seconds: number) => (seconds > 0 ? ['-itsoffset', seconds.toFixed(3)] : []);
  return [
    ...QUIET_OVERWRITE,
    ...offset(-part.audioOffsetSeconds),
    '-f',
    'mp4',
    '-i',
    'pipe:0',
    ...(hasAudio ? [...offset(part.audioOffsetSeconds), '-f', 'mp4', '-i', 'pipe:3'] : []),
    '-map',
    '0:v:0',
    ...(hasAudio ? ['-map', '1:a:0'] : []),
    '-c',
    'copy',
    ...(faststart ? ['-movflags', '+faststart'] : []),
    '-f',
    'mp4',
    out,
  ];
}

/** argv to join parts listed in a concat file into `out`. */
export function buildConcatArgs(listPath: string, out: string): string[] {
  return [
    ...QUIET_OVERWRITE,
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listPath,
    '-c',
    'copy',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    out,
  ];
}

async function feed(files: readonly string[], to: Writable): Promise<void> {
  await pipeline(async function* () {
    for (const f of files) yield* createReadStream(f);
  }, to);
}

function run(tool: FfmpegTool, args: string[], inputs: (readonly string[] | undefined)[]): Promise<void> {
  const { ffmpegPath } = tool;
  const child = tool.children.add(
    spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] }),
    'download-remux',
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
  const streams = [child.stdio[0], child.stdio[3]] as Writable[];
  const feeds = inputs.map((files, i) => {
    const stream = streams[i]!;
    stream.on('error', () => undefined); // FFmpeg may close its input early on bad data
    return files ? feed(files, stream).catch(() => undefined) : Promise.resolve(stream.end());
  });
  return new Promise((resolve, reject) => {
    child.once('error', (err) =>
      reject(new MediaError('encoder_failed', `cannot run ${ffmpegPath}: ${err.message}`)),
    );
    child.once('close', (code) => {
      void Promise.all(feeds).then(() => {
        if (code === 0) resolve();
        else
          reject(
            new MediaError(
              'encoder_failed',
              `remux failed (code ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
            ),
          );
      });
    });
  });
}

/** Writes the parts as one MP4 at `out`. */
export async function remuxToMp4(tool: FfmpegTool, parts: readonly RemuxPart[], out: string): Promise<void> {
  if (parts.length === 0) throw new MediaError('invalid_argument', 'nothing to remux');
  const tmp = `${out}.tmp`;
  const made: string[] = [];
  try {
    if (parts.length === 1) {
      const p = parts[0]!;
      await run(tool, buildRemuxPartArgs(p, tmp, true), [p.video, p.audio]);
    } else {
      for (const [i, p] of parts.entries()) {
        const partPath = `${out}.part${i}.mp4`;
        made.push(partPath);
        await run(tool, buildRemuxPartArgs(p, partPath, false), [p.video, p.audio]);
      }
      const list = `${out}.parts.txt`;
      made.push(list);
      await writeFile(
        list,
        made
          .filter((f) => f.endsWith('.mp4'))
          .map((f) => `file '${f.replace(/'/g, "'\\''")}'`)
          .join('\n') + '\n',
      );
      await run(tool, buildConcatArgs(list, tmp), []);
    }
    await rename(tmp, out);
  } finally {
    await Promise.all([tmp, ...made].map((f) => rm(f, { force: true })));
  }
}
