/**
 * The media of a playback source: init segments, segments and LL-HLS parts.
 * All are immutable once written; a part is a byte range of its segment file,
 * held a moment when it is the next to be written, and LL-DASH gets the
 * segment being written as it grows.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import { splitParts } from '../packager/mp4.ts';
import type { Part, PendingSegment, Segment, TimelineView } from '../packager/timeline.ts';
import type { FileCache } from './file-cache.ts';
import { IMMUTABLE, sendBuffer } from './responses.ts';
import { sendFile } from './send-file.ts';
import { waitUntil, type PlaybackContext, type PlaybackSource } from './source.ts';

const SEGMENT_PATH = /^(r[a-z0-9]+)\/([a-z0-9]+)\/(init\.mp4|seg_(\d{5,9})(?:\.p(\d{1,3}))?\.m4s)$/;

/**
 * `rest` names a segment, a part or an init segment of the source (404
 * otherwise). `ll`: the source is low-latency and live now.
 */
export async function serveMedia(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  rest: string,
  ctx: PlaybackContext,
  ll: boolean,
): Promise<void> {
  const sm = SEGMENT_PATH.exec(rest);
  if (!sm) throw new OnairError('not_found', 'not found');
  const [, runId, trackId, name, numText, partText] = sm as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const n = numText === undefined ? undefined : Number(numText);
  if (source.confined && !inView(source.view(), runId, trackId, n)) {
    throw new OnairError('not_found', 'not found (not in this window)');
  }
  const type = trackId === 'audio' ? 'audio/mp4' : 'video/mp4';
  // The pattern admits no "..", so the file is always inside the source's folder.
  const segFile = path.join(
    source.dir,
    runId,
    trackId,
    partText === undefined ? name : name.replace(/\.p\d+\.m4s$/, '.m4s'),
  );
  const cache = ctx.cache;
  if (partText !== undefined) {
    await servePart(
      req,
      res,
      source,
      segFile,
      runId,
      trackId,
      Number(numText),
      Number(partText),
      type,
      cache,
    );
    return;
  }
  const whole = cache ? await cache.file(segFile) : undefined;
  if (whole) {
    sendBuffer(req, res, whole.body, whole.etag, type, IMMUTABLE);
    return;
  }
  if (n !== undefined && ll) {
    // LL-DASH asks for the segment being written (or about to be): send it as it grows.
    const find = () => lookup(source.view(), runId, trackId, n);
    const found = find();
    if (!found.segment && (found.pending || found.next)) {
      if (
        !found.pending &&
        !(await waitUntil(
          source,
          () => find().pending !== undefined || find().segment !== undefined,
          source.segmentSeconds * AHEAD * 1000,
        ))
      ) {
        throw new OnairError('not_found', 'segment not written yet');
      }
      if (!find().segment) {
        await streamGrowing(req, res, source, segFile, find, type);
        return;
      }
    }
  }
  await sendFile(req, res, segFile, type, IMMUTABLE);
}

/** How many segments past the newest one a request may ask for and be held until it comes. */
const AHEAD = 1;

/**
 * The segment numbered `n` of a run's track: complete, being written, or neither yet. `next` when it
 * is one to come: up to AHEAD after the last one, or any number while a live run's track has none yet
 * (a new run, or a rendition whose encoder starts later than the others).
 */
function lookup(
  view: TimelineView,
  runId: string,
  trackId: string,
  n: number,
): { segment?: Segment; pending?: PendingSegment; next: boolean } {
  const run = view.runs.find((r) => r.id === runId);
  const track = run?.tracks.get(trackId);
  if (!run || !track) return { next: run !== undefined && !run.ended };
  const segment = track.segments.find((s) => s.number === n);
  if (segment) return { segment, next: false };
  if (track.pending?.number === n) return { pending: track.pending, next: false };
  const last = track.pending?.number ?? track.segments.at(-1)?.number;
  return { next: last === undefined ? !run.ended : n > last && n <= last + AHEAD };
}

/**
 * Whether a view has the init segment (`n` undefined) or the segment `n` of a run's track: listed,
 * being written, or the next to come (a request held until it is written).
 */
function inView(view: TimelineView, runId: string, trackId: string, n: number | undefined): boolean {
  const track = view.runs.find((r) => r.id === runId)?.tracks.get(trackId);
  if (!track) return false;
  if (n === undefined) return true;
  const found = lookup(view, runId, trackId, n);
  return found.segment !== undefined || found.pending !== undefined || found.next;
}

/** Bytes [offset, offset + length) of a segment file, complete or still being written (`.tmp`). */
async function readRange(file: string, offset: number, length: number, cache?: FileCache): Promise<Buffer> {
  const whole = cache?.get(file);
  if (whole) return whole.body.subarray(offset, offset + length);
  for (const name of [file, `${file}.tmp`, file]) {
    let fh;
    try {
      fh = await open(name, 'r');
    } catch {
      continue; // renamed between the two names: try the other
    }
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      if (bytesRead === length) return buf;
    } finally {
      await fh.close();
    }
  }
  throw new OnairError('not_found', 'part not found (it may have left the window)');
}

/**
 * LL-DASH: the segment being written, sent part by part as FFmpeg completes
 * them (chunked transfer), then the rest once the file is complete.
 */
async function streamGrowing(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  file: string,
  find: () => { segment?: Segment; pending?: PendingSegment },
  type: string,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': type, ...IMMUTABLE });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let closed = false;
  res.on('close', () => (closed = true));
  let sent = 0;
  const deadline = Date.now() + source.segmentSeconds * 4 * 1000;
  while (!closed) {
    const { segment, pending } = find();
    const end = segment ? segment.bytes : pending ? partsEnd(pending.parts) : sent;
    if (end > sent) {
      const chunk = await readRange(file, sent, end - sent).catch(() => undefined);
      if (!chunk) break;
      res.write(chunk);
      sent = end;
    }
    if (segment) {
      res.end();
      return;
    }
    const left = deadline - Date.now();
    if (left <= 0 || !pending || !source.waitForChange) break;
    await source.waitForChange(left);
  }
  // The segment never completed (the encoder stopped): the client sees a cut response.
  res.destroy();
}

function partsEnd(parts: readonly Part[]): number {
  const last = parts.at(-1);
  return last ? last.offset + last.length : 0;
}

/** An LL-HLS part: a byte range of its segment, held a moment when it is the next one to be written. */
async function servePart(
  req: IncomingMessage,
  res: ServerResponse,
  source: PlaybackSource,
  segFile: string,
  runId: string,
  trackId: string,
  n: number,
  k: number,
  type: string,
  cache: FileCache | undefined,
): Promise<void> {
  const find = (): Part | undefined => {
    const { segment, pending } = lookup(source.view(), runId, trackId, n);
    return (segment?.parts ?? pending?.parts)?.[k];
  };
  let part = find();
  if (!part) {
    const { segment, pending, next } = lookup(source.view(), runId, trackId, n);
    // The preload hint: the next part of the segment being written, or the first of the next one.
    const hinted = (pending && k === pending.parts.length) || (next && k === 0);
    if (!segment && !pending && !next && cache) {
      // A segment that left the window (its file is kept a while longer): its parts are its fragments.
      const whole = await cache.file(segFile);
      const r = whole ? splitParts(whole.body)[k] : undefined;
      if (whole && r) {
        const etag = `"p${r.offset.toString(16)}-${r.length.toString(16)}"`;
        sendBuffer(req, res, whole.body.subarray(r.offset, r.offset + r.length), etag, type, IMMUTABLE);
        return;
      }
    }
    if (segment || !hinted) throw new OnairError('not_found', 'no such part');
    await waitUntil(source, () => find() !== undefined, source.partSeconds * 6 * 1000);
    part = find();
    if (!part) throw new OnairError('not_found', 'part not written yet');
  }
  const key = `${segFile}#${String(k)}`;
  let item = cache?.get(key);
  if (!item) {
    const body = await readRange(segFile, part.offset, part.length, cache);
    item = { body, etag: `"p${part.offset.toString(16)}-${part.length.toString(16)}"` };
    cache?.set(key, item);
  }
  sendBuffer(req, res, item.body, item.etag, type, IMMUTABLE);
}
