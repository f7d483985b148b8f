/** HLS playlist parsing and ffprobe of CMAF segments, for the live E2E test. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface Variant {
  uri: string;
  attrs: Record<string, string>;
  width: number;
  height: number;
}

export interface Master {
  variants: Variant[];
  /** URIs of the EXT-X-MEDIA renditions (the audio track). */
  media: { type: string; uri: string }[];
}

/** Attribute list of an HLS tag: KEY=VALUE,KEY="quoted,value". */
export function parseAttrs(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (const m of list.matchAll(re)) {
    const key = m[1];
    const value = m[2];
    if (key !== undefined && value !== undefined)
      out[key] = value.startsWith('"') ? value.slice(1, -1) : value;
  }
  return out;
}

export function parseMaster(text: string): Master {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const variants: Variant[] = [];
  const media: { type: string; uri: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const attrs = parseAttrs(line.slice('#EXT-X-STREAM-INF:'.length));
      const uri = lines.slice(i + 1).find((l) => l !== '' && !l.startsWith('#')) ?? '';
      const [w, h] = (attrs.RESOLUTION ?? '0x0').split('x').map(Number);
      variants.push({ uri, attrs, width: w ?? 0, height: h ?? 0 });
    } else if (line.startsWith('#EXT-X-MEDIA:')) {
      const attrs = parseAttrs(line.slice('#EXT-X-MEDIA:'.length));
      if (attrs.URI) media.push({ type: attrs.TYPE ?? '', uri: attrs.URI });
    }
  }
  return { variants, media };
}

/** The newest segment of a media playlist and the EXT-X-MAP (init segment) that applies to it. */
export function newestSegment(text: string): { init: string; segment: string } | null {
  let init = '';
  let found: { init: string; segment: string } | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MAP:')) init = parseAttrs(line.slice('#EXT-X-MAP:'.length)).URI ?? '';
    else if (line !== '' && !line.startsWith('#')) found = { init, segment: line };
  }
  return found;
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  profile?: string;
}

/** ffprobe -show_streams of init + media segment, concatenated into a temp file. */
export async function ffprobeSegments(init: Buffer, segment: Buffer): Promise<ProbedStream[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onair-e2e-'));
  try {
    const file = path.join(dir, 'probe.mp4');
    await writeFile(file, Buffer.concat([init, segment]));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], {
      timeout: 20_000,
    });
    return (JSON.parse(stdout) as { streams?: ProbedStream[] }).streams ?? [];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
