/**
 * Keeping a recording: its files are hard-linked from where they were written
 * into the asset's own folder, so the live window can prune its copies and an
 * asset deleted later frees exactly the bytes no other asset shares.
 */
import { link, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseInitSegment, parseMediaSegment, type InitInfo } from './mp4.ts';
import type { Run, TimelineView, TrackInfo } from './timeline.ts';

/** Every file a view references (init segments and media segments), relative to its folder. */
export function viewFiles(view: TimelineView): string[] {
  const files = new Set<string>();
  for (const run of view.runs) {
    for (const track of run.tracks.values()) {
      files.add(track.initUri);
      for (const seg of track.segments) files.add(seg.uri);
    }
  }
  return [...files];
}

/** Links every file of `view` from `fromDir` into `toDir` (same relative paths). Returns their bytes. */
export async function linkView(view: TimelineView, fromDir: string, toDir: string): Promise<number> {
  let bytes = 0;
  const made = new Set<string>();
  for (const uri of viewFiles(view)) {
    const target = path.join(toDir, uri);
    const dir = path.dirname(target);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    try {
      await link(path.join(fromDir, uri), target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    bytes += (await stat(target)).size;
  }
  return bytes;
}

/** Whether every file of the view is in `dir`. */
export async function hasAllFiles(view: TimelineView, dir: string): Promise<boolean> {
  for (const uri of viewFiles(view)) {
    try {
      await stat(path.join(dir, uri));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Removes what is under `dir` and not `keep` (relative paths; folders of kept
 * files stay). Returns the removed paths. For the start-up sweep: files no index
 * references are left-overs of a crash.
 */
export async function sweepDir(dir: string, keep: ReadonlySet<string>, prefix = ''): Promise<string[]> {
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const inside = [...keep].some((k) => k.startsWith(`${rel}/`));
      if (!inside) {
        await rm(path.join(dir, rel), { recursive: true, force: true });
        removed.push(`${rel}/`);
      } else removed.push(...(await sweepDir(dir, keep, rel)));
    } else if (!keep.has(rel)) {
      await rm(path.join(dir, rel), { force: true });
      removed.push(rel);
    }
  }
  return removed;
}

/**
 * Reads back a recording kept as VOD HLS files (how onair kept assets before
 * its segment index was durable): each `<track>.m3u8` in `dir` (not the
 * multivariant one), its maps and segments parsed for their timing. Runs are
 * told apart by their init segment.
 */
export async function readHlsRecording(dir: string): Promise<TimelineView> {
  const runs = new Map<string, Run>();
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.m3u8') || name === 'master.m3u8') continue;
    const trackId = name.slice(0, -'.m3u8'.length);
    const text = await readFile(path.join(dir, name), 'utf8');
    let init: InitInfo | undefined;
    let initUri = '';
    let pdt: number | undefined;
    let number = 0;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
      if (map) {
        initUri = map[1]!;
        init = parseInitSegment(await readFile(path.join(dir, initUri)));
        continue;
      }
      if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
      if (!line || line.startsWith('#') || !init || pdt === undefined) continue;
      const runId = line.split('/')[0]!;
      let run = runs.get(runId);
      if (!run)
        runs.set(runId, (run = { id: runId, startedAt: pdt, ended: true, anchor: pdt, tracks: new Map() }));
      let track = run.tracks.get(trackId);
      if (!track) {
        const info: TrackInfo = {
          id: trackId,
          kind: init.kind,
          codec: init.codec,
          bandwidth: 0,
          timescale: init.timescale,
        };
        if (init.width !== undefined) info.width = init.width;
        if (init.height !== undefined) info.height = init.height;
        if (init.sampleRate !== undefined) info.sampleRate = init.sampleRate;
        if (init.channels !== undefined) info.channels = init.channels;
        track = { info, initUri, segments: [], discontinuity: 0, firstStart: undefined };
        run.tracks.set(trackId, track);
      }
      const buf = await readFile(path.join(dir, line));
      const frag = parseMediaSegment(buf, init);
      track.firstStart ??= frag.baseMediaDecodeTime;
      const m = /(\d+)\.m4s$/.exec(line);
      track.segments.push({
        seq: number++,
        number: m ? Number(m[1]) : number,
        uri: line,
        start: frag.baseMediaDecodeTime,
        duration: frag.duration,
        pdt,
        bytes: buf.length,
      });
      pdt = undefined;
    }
  }
  for (const run of runs.values()) {
    for (const t of run.tracks.values()) {
      const seconds = t.segments.reduce((n, s) => n + s.duration / t.info.timescale, 0);
      const bytes = t.segments.reduce((n, s) => n + s.bytes, 0);
      t.info.bandwidth = seconds > 0 ? Math.round((bytes * 8) / seconds) : 0;
    }
  }
  return { runs: [...runs.values()].sort((a, b) => a.startedAt - b.startedAt) };
}
