/**
 * Response headers that protect the console and its viewers: set once per
 * request at the HTTP edge (server/app.ts), by what the path is.
 */
import type { ServerResponse } from 'node:http';

/** On every response: no MIME sniffing; referrers (which may carry playback tokens) stay on this site. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

/** A year: browsers that saw the server over https keep to https for it. */
export const HSTS = 'max-age=31536000';

/**
 * The headers of every response: BASE_HEADERS, and Strict-Transport-Security
 * when the configured public URL is https (TLS ends at onair or at a proxy in
 * front of it; either way the site is meant to be reached over https only).
 */
export function baseHeaders(publicUrl: string | undefined): Readonly<Record<string, string>> {
  return publicUrl?.startsWith('https:')
    ? { ...BASE_HEADERS, 'Strict-Transport-Security': HSTS }
    : BASE_HEADERS;
}

export type PageKind = 'console' | 'embed';

/**
 * The Content-Security-Policy of onair's pages. Next.js bootstraps each page with
 * inline scripts, and onair's pages are prerendered (no per-request nonce), so
 * scripts are limited to this origin plus inline ones; everything else is
 * locked to this origin. The console and the watch page cannot be framed; the
 * embed page can be framed by any site (that is what it is for).
 */
export function contentSecurityPolicy(
  kind: PageKind,
  opts: { dev?: boolean; extraOrigins?: readonly string[] } = {},
): string {
  const self = ["'self'", ...(opts.extraOrigins ?? [])].join(' ');
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${opts.dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    `img-src ${self} data: blob:`,
    `media-src ${self} blob:`,
    `connect-src ${self}${opts.dev ? ' ws: wss:' : ''}`,
    "worker-src 'self' blob:",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${kind === 'embed' ? '*' : "'none'"}`,
  ];
  return directives.join('; ');
}

/** Headers for a page or file the UI (Next.js) serves at `path`. */
export function uiHeaders(
  path: string,
  opts: { dev?: boolean; extraOrigins?: readonly string[] } = {},
): Record<string, string> {
  const kind: PageKind = path === '/embed' || path.startsWith('/embed/') ? 'embed' : 'console';
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(kind, opts),
  };
  if (kind !== 'embed') headers['X-Frame-Options'] = 'DENY';
  return headers;
}

/** Pages (not hashed build files or public files): their answers are never stored by any cache. */
export function isPagePath(path: string): boolean {
  if (path.startsWith('/_next/')) return false;
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !last.includes('.');
}

/**
 * Makes `Cache-Control` of this response `value` whatever the handler sets later
 * (Next.js marks prerendered pages `s-maxage=31536000`).
 */
export function pinCacheControl(res: ServerResponse, value: string): void {
  const setHeader = res.setHeader.bind(res);
  setHeader('Cache-Control', value);
  res.setHeader = (name: string, v: number | string | readonly string[]) =>
    name.toLowerCase() === 'cache-control' ? res : setHeader(name, v);
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = (...args: unknown[]) => {
    const last = args[args.length - 1];
    if (last && typeof last === 'object' && !Array.isArray(last)) {
      for (const key of Object.keys(last)) {
        if (key.toLowerCase() === 'cache-control') delete (last as Record<string, unknown>)[key];
      }
    }
    return writeHead(...args);
  };
}
