/** Files over HTTP: GET and HEAD, one byte range (206) for players and download managers. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * A `Range: bytes=…` header against a file of `size` bytes (RFC 9110 §14):
 * one range (first-last, first-, or -suffix). Undefined means "send it all"
 * (no header, another unit, or several ranges, which a server may ignore).
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    // An empty file has no last bytes to send (RFC 9110 §14.1.2).
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  type: string,
  headers: Record<string, string>,
): Promise<void> {
  let size = -1;
  try {
    const st = await stat(file);
    if (st.isFile()) size = st.size;
  } catch {
    // not there
  }
  if (size < 0) throw new OnairError('not_found', 'not found (a segment may have left the window)');
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${size}`, ...headers }).end();
    return;
  }
  const common = { 'Content-Type': type, 'Accept-Ranges': 'bytes', ...headers };
  if (range) {
    res.writeHead(206, {
      ...common,
      'Content-Length': range.end - range.start + 1,
      'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
    });
  } else {
    res.writeHead(200, { ...common, 'Content-Length': size });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file, range ? { start: range.start, end: range.end } : {});
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
