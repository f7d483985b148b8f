/**
 * Playback responses: the caching headers, conditional requests (ETag →
 * 304), and bodies held in memory (renderings, cached segments and parts,
 * with one byte range).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Rendered } from './renderings.ts';
import { parseRange } from './send-file.ts';

export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Date',
};
export const NO_CACHE = { 'Cache-Control': 'no-cache', ...CORS };
export const IMMUTABLE = { 'Cache-Control': 'public, max-age=31536000, immutable', ...CORS };

function notModified(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  return inm.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === `W/${etag}`;
  });
}

/** A rendering, or 304 when the client has it (HEAD: the headers only). */
export function sendRendered(
  req: IncomingMessage,
  res: ServerResponse,
  r: Rendered,
  type: string,
  headers: Record<string, string>,
): void {
  const common = { ETag: r.etag, ...headers };
  if (notModified(req, r.etag)) {
    res.writeHead(304, common).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': r.body.length, ...common });
  if (req.method === 'HEAD') res.end();
  else res.end(r.body);
}

export function sendBuffer(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  etag: string,
  type: string,
  headers: Record<string, string>,
): void {
  const common = { 'Content-Type': type, 'Accept-Ranges': 'bytes', ETag: etag, ...headers };
  if (notModified(req, etag)) {
    res.writeHead(304, { ETag: etag, ...headers }).end();
    return;
  }
  const range = parseRange(req.headers.range, body.length);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${String(body.length)}`, ...headers }).end();
    return;
  }
  const slice = range ? body.subarray(range.start, range.end + 1) : body;
  res.writeHead(range ? 206 : 200, {
    ...common,
    'Content-Length': slice.length,
    ...(range
      ? { 'Content-Range': `bytes ${String(range.start)}-${String(range.end)}/${String(body.length)}` }
      : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : slice);
}
