/** HTTP plumbing shared by every endpoint: bodies, JSON, and the one error → HTTP mapping. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { OnairError } from '../../lib/errors.ts';
import type { Logger } from '../log.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    throw new OnairError(
      'unsupported_media_type',
      `Content-Encoding ${encoding} is not supported; send the body uncompressed`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new OnairError('payload_too_large', `request body is over ${limit / 1024} KiB`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new OnairError('payload_too_large', `request body is over ${limit / 1024} KiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads a JSON body. An empty body reads as `{}` only when `allowEmpty`. */
export async function readJson(req: IncomingMessage, opts: { allowEmpty?: boolean } = {}): Promise<unknown> {
  const hasBody =
    Number(req.headers['content-length'] ?? '0') > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody && opts.allowEmpty) {
    await readBody(req);
    return {};
  }
  if (mediaType(req) !== 'application/json') {
    throw new OnairError(
      'unsupported_media_type',
      'request body must be JSON (Content-Type: application/json)',
    );
  }
  const raw = await readBody(req);
  if (raw.length === 0 && opts.allowEmpty) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new OnairError('invalid_json', 'request body is not valid JSON');
  }
}

/** Validates with zod; the first issue becomes a 422 that names the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw zodToError(result.error);
}

export function zodToError(error: z.ZodError): OnairError {
  const issue = error.issues[0];
  if (!issue) return new OnairError('validation_failed', 'invalid request');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? 'field';
    return OnairError.validation(key, 'is not a known field');
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return new OnairError('validation_failed', 'request body must be a JSON object');
  }
  const field = issue.path.map(String).join('.') || 'body';
  return OnairError.validation(field, issue.message);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** The one place an error becomes an HTTP response. Unknown errors are logged and never leak. */
export function sendError(
  res: ServerResponse,
  err: unknown,
  log: Logger,
  headers: Record<string, string> = {},
): void {
  let error: OnairError;
  if (err instanceof OnairError) error = err;
  else if (err instanceof z.ZodError) error = zodToError(err);
  else {
    log.error({ err }, 'unhandled error');
    error = new OnairError('internal_error', 'internal server error');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = { ...headers };
  if (error.code === 'unauthorized') extra['WWW-Authenticate'] = 'Bearer';
  sendJson(res, error.status, error.toBody(), extra);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Constant-time comparison of secrets of any length. */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The base URL clients reach this server at: ONAIR_PUBLIC_URL, else the request's Host. */
export function publicBaseUrl(
  config: { publicUrl: string | undefined; port: number },
  req: IncomingMessage,
): string {
  return config.publicUrl ?? `http://${req.headers.host ?? `localhost:${config.port}`}`;
}

/** The client's address, without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
