/**
 * Keeping a recording: its files are hard-linked from where they were written
 * into the asset's own folder, so the live window can prune its copies and an
 * asset deleted later frees exactly the bytes no other asset shares.
 */
import { link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TimelineView } from './timeline.ts';

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
