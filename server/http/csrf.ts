/**
 * Cross-site request forgery: a page on another origin — even one on the same
 * host and another port, which still gets a SameSite=Strict cookie — must not
 * change anything with the console's cookie. A state-changing request
 * authenticated by the cookie must come from onair's own pages: the browser says
 * so in `Sec-Fetch-Site: same-origin`, or in an `Origin` that is this server's.
 * A request with neither is refused too (every browser that runs the console
 * sends at least one of them), and so is a POST with no body.
 */
import type { IncomingMessage } from 'node:http';
import { OnairError } from '../../lib/errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Lower-cased `host[:port]` of an http(s) origin, or undefined. */
function originHost(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Throws `cross_origin_request` (403) unless the request is safe (GET/HEAD/OPTIONS)
 * or comes from this server's own origin. `publicUrl` is ONAIR_PUBLIC_URL, whose
 * origin counts as this server's too (a TLS proxy in front may rewrite Host).
 */
export function assertSameOrigin(req: IncomingMessage, publicUrl: string | undefined): void {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin') return;
    throw new OnairError(
      'cross_origin_request',
      `a ${site} request cannot use the console's session; use the console or an Authorization header`,
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') {
    throw new OnairError(
      'cross_origin_request',
      'a request that changes something with the console session must carry Origin or Sec-Fetch-Site',
    );
  }
  const host = originHost(origin);
  const own = (req.headers.host ?? '').toLowerCase();
  const pub = publicUrl ? new URL(publicUrl).origin : undefined;
  if (host !== undefined && (host === own || origin === pub)) return;
  throw new OnairError(
    'cross_origin_request',
    `requests from ${JSON.stringify(origin.slice(0, 100))} cannot use the console's session`,
  );
}
