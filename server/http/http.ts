/** HTTP plumbing shared by every endpoint: bodies, JSON, and the one error → HTTP mapping. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { OnairError, type ErrorCode } from '../../lib/errors.ts';
import { zodToError } from '../../lib/validate.ts';
import type { Logger } from '../log.ts';
import { MediaError, type MediaErrorCode } from '../media/errors.ts';
import { socketAddress } from './client-address.ts';
import { HostPolicy } from './host-policy.ts';

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

/** What a media error means to an HTTP client. */
const MEDIA_ERROR_HTTP: Record<MediaErrorCode, ErrorCode> = {
  malformed_media: 'unprocessable_media',
  unsupported_media: 'unprocessable_media',
  invalid_state: 'internal_error',
  invalid_argument: 'internal_error',
  encoder_failed: 'unavailable',
  port_unavailable: 'unavailable',
  invalid_sdp: 'invalid_sdp',
  unsupported_offer: 'unsupported_offer',
  router_closed: 'channel_not_running',
  sfu_unavailable: 'unavailable',
};

/** Any thrown value as the one error type; unknown errors become internal_error (and are logged). */
export function toOnairError(err: unknown, log?: Logger): OnairError {
  if (err instanceof OnairError) return err;
  if (err instanceof z.ZodError) return zodToError(err);
  if (err instanceof MediaError) {
    const code = MEDIA_ERROR_HTTP[err.code];
    if (code === 'internal_error') log?.error({ err }, 'media error');
    return new OnairError(code, code === 'internal_error' ? 'internal server error' : err.message, {
      cause: err,
    });
  }
  log?.error({ err }, 'unhandled error');
  return new OnairError('internal_error', 'internal server error');
}

/** The one place an error becomes an HTTP response. Unknown errors are logged and never leak. */
export function sendError(
  res: ServerResponse,
  err: unknown,
  log: Logger,
  headers: Record<string, string> = {},
): void {
  const error = toOnairError(err, log);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = { ...headers };
  if (error.code === 'unauthorized') extra['WWW-Authenticate'] = 'Bearer';
  if (error.code === 'token_required' || error.code === 'token_expired')
    extra['WWW-Authenticate'] = 'Bearer realm="onair playback"';
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

interface BaseUrlConfig {
  publicUrl: string | undefined;
  allowedHosts?: readonly string[];
  host?: string;
}

/** One host policy per configuration (the config is read once, so this holds one entry). */
const policies = new WeakMap<BaseUrlConfig, HostPolicy>();

/**
 * The base URL clients reach this server at: ONAIR_PUBLIC_URL, else the request's
 * Host when it names this server (see HostPolicy), else '' so URLs stay relative.
 */
export function publicBaseUrl(config: BaseUrlConfig, req: IncomingMessage): string {
  let policy = policies.get(config);
  if (!policy) {
    policy = new HostPolicy({
      publicUrl: config.publicUrl,
      allowedHosts: config.allowedHosts ?? [],
      listenHost: config.host,
    });
    policies.set(config, policy);
  }
  return policy.baseUrl(req);
}

/** Client addresses resolved at the edge (through trusted proxies), per request. */
const resolvedAddresses = new WeakMap<IncomingMessage, string>();

/** Records who the client of `req` is (server/app.ts does, once, before any handler runs). */
export function setClientAddress(req: IncomingMessage, address: string): void {
  resolvedAddresses.set(req, address);
}

/** The client's address: as resolved at the edge, else the socket peer's. */
export function clientAddress(req: IncomingMessage): string {
  return resolvedAddresses.get(req) ?? socketAddress(req);
}
