/**
 * The one HTTP shape of WHIP (RFC 9725) and WHEP: POST an SDP offer to a resource, get 201 with the
 * answer and a session URL; the session URL answers DELETE (end), PATCH (trickle ICE: not supported,
 * 405 as the RFC allows) and OPTIONS. CORS, ICE servers as Link headers, the body limit, rate limits
 * and error mapping (through the one error table, `toOnairError`) are the same for both; what differs
 * — who may post, what a session is made of — comes from the protocol's spec.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError, type ErrorCode } from '../../lib/errors.ts';
import { MediaError } from '../media/errors.ts';
import { clientAddress, mediaType, readBody, toOnairError } from './http.ts';
import { iceServerLinks, type IceServerLike } from './ice-links.ts';
import type { MediaMount, MountContext } from './mount.ts';
import { RateLimiter } from './rate-limit.ts';

/** A WebRTC session as its signalling sees it. */
export interface SignalledSession {
  readonly id: string;
  readonly answer: string;
  close(reason?: string): void;
}

/** What a POST to a resource is, once the shared checks have passed. */
export interface OfferRequest {
  req: IncomingMessage;
  channelId: string;
  /** The path segment after the channel id (`backup` for WHIP's backup input), or undefined. */
  variant: string | undefined;
  address: string;
  /** The offer, read within the body limit. */
  readOffer: () => Promise<string>;
}

export interface WebRtcEndpointSpec {
  /** `whip` or `whep`: the path prefix, and the name in messages. */
  protocol: 'whip' | 'whep';
  iceServers: readonly IceServerLike[];
  rateLimitPerMinute: number;
  /**
   * `failures`: only failed POSTs count (a publisher that gets in is never slowed down);
   * `requests`: every POST takes from the allowance.
   */
  rateLimit: 'failures' | 'requests';
  /** Path segments allowed after the channel id of a POST resource (WHIP: `backup`). */
  variants?: readonly string[];
  /** Headers on every reply besides CORS (WHEP: `Cache-Control: no-store`). */
  headers?: Record<string, string>;
  /** CORS headers the client may read besides the standard ones (WHEP: `Retry-After`). */
  exposeRetryAfter?: boolean;
  /** `WWW-Authenticate` on a 401. */
  challenge?: string;
  /** A refused credential (a 401 to a request that sent one) counts as a failed authentication. */
  countsAuthFailures?: boolean;
  /** When to try again, in seconds, for refusals that pass. */
  retryAfter?: Partial<Record<ErrorCode, number>>;
  /** Creates a session for a POST; throws OnairError or MediaError. */
  post(offer: OfferRequest): Promise<SignalledSession>;
  /** Checks a request on a session URL before the session is looked up (WHIP: the stream key). */
  authorizeSession?(req: IncomingMessage, channelId: string): Promise<void>;
  findSession(channelId: string, sessionId: string): SignalledSession | undefined;
  /** Why a DELETE ends a session, for the log. */
  deleteReason: string;
}

/** An error this endpoint answers itself; anything else is the HTTP front's (logged, 500). */
function answerable(err: unknown): OnairError | undefined {
  return err instanceof OnairError || err instanceof MediaError ? toOnairError(err) : undefined;
}

export function webRtcMount(spec: WebRtcEndpointSpec): MediaMount {
  const name = spec.protocol.toUpperCase();
  const limiter = new RateLimiter(spec.rateLimitPerMinute, 60_000);
  const links = iceServerLinks(spec.iceServers);
  const linkHeader = links.length > 0 ? { Link: links.join(', ') } : {};
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, PATCH, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
    'Access-Control-Expose-Headers': `Location, ETag, Link, Accept-Patch, Accept-Post${spec.exposeRetryAfter ? ', Retry-After' : ''}`,
    'Access-Control-Max-Age': '600',
  };
  const common = { ...cors, ...spec.headers };

  const fail = (res: ServerResponse, err: OnairError, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = {
      ...common,
      'Content-Type': 'application/json; charset=utf-8',
      ...extra,
    };
    if (err.code === 'unauthorized' && spec.challenge) headers['WWW-Authenticate'] = spec.challenge;
    res.writeHead(err.status, headers).end(JSON.stringify(err.toBody()));
  };
  const notAllowed = (res: ServerResponse, message: string, allow: string) =>
    fail(res, new OnairError('method_not_allowed', message), { Allow: allow });

  /** A credential that was presented and refused is a failed authentication. */
  function refused(req: IncomingMessage, err: OnairError, ctx: MountContext | undefined): void {
    if (spec.countsAuthFailures && err.code === 'unauthorized' && req.headers.authorization !== undefined)
      ctx?.authFailed(clientAddress(req));
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    channelId: string,
    variant: string | undefined,
    ctx: MountContext | undefined,
  ): Promise<void> {
    const address = clientAddress(req);
    try {
      if (spec.rateLimit === 'failures' ? limiter.isLimited(address) : !limiter.take(address)) {
        const why = spec.rateLimit === 'failures' ? 'failed ' : '';
        throw new OnairError('rate_limited', `too many ${why}${name} requests; slow down`);
      }
      if (mediaType(req) !== 'application/sdp') {
        throw new OnairError(
          'unsupported_media_type',
          'the offer must be sent as Content-Type: application/sdp',
        );
      }
      const readOffer = async () => (await readBody(req)).toString('utf8');
      const session = await spec.post({ req, channelId, variant, address, readOffer });
      res.writeHead(201, {
        ...common,
        'Content-Type': 'application/sdp',
        Location: `/${spec.protocol}/${encodeURIComponent(channelId)}/sessions/${session.id}`,
        ETag: `"${session.id.slice(0, 16)}"`,
        'Accept-Patch': 'application/trickle-ice-sdpfrag',
        ...linkHeader,
      });
      res.end(session.answer);
    } catch (caught) {
      const err = answerable(caught);
      if (!err) throw caught;
      if (spec.rateLimit === 'failures' && err.code !== 'rate_limited') limiter.hit(address);
      refused(req, err, ctx);
      throw err;
    }
  }

  async function session(
    req: IncomingMessage,
    res: ServerResponse,
    channelId: string,
    sessionId: string,
    ctx: MountContext | undefined,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Accept-Patch': 'application/trickle-ice-sdpfrag', ...linkHeader }).end();
      return;
    }
    try {
      await spec.authorizeSession?.(req, channelId);
    } catch (err) {
      if (err instanceof OnairError) refused(req, err, ctx);
      throw err;
    }
    // Without a stream key to check, the session id is the capability: 128 random bits, only ever sent to its client.
    const found = spec.findSession(channelId, sessionId);
    if (!found) throw OnairError.notFound('session', sessionId);
    if (method === 'DELETE') {
      found.close(spec.deleteReason);
      res.writeHead(200, common).end();
      return;
    }
    if (method === 'PATCH') {
      if (mediaType(req) !== 'application/trickle-ice-sdpfrag') {
        throw new OnairError('unsupported_media_type', 'PATCH takes application/trickle-ice-sdpfrag');
      }
      await readBody(req);
      // All server candidates are in the answer and the client's arrive in its offer; trickle and
      // ICE restarts are not supported (RFC 9725 §4.3.1).
      notAllowed(res, 'trickle ICE is not supported; send all candidates in the offer', 'DELETE, OPTIONS');
      return;
    }
    notAllowed(res, `${method} is not allowed on a ${name} session`, 'PATCH, DELETE, OPTIONS');
  }

  return {
    prefix: `/${spec.protocol}`,
    async handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx?: MountContext): Promise<void> {
      // [protocol, channelId, (variant)?] or [protocol, channelId, 'sessions', sessionId]
      const parts = url.pathname.split('/').filter(Boolean);
      const method = req.method ?? 'GET';
      try {
        const variant = parts.length === 3 ? parts[2]! : undefined;
        if (parts.length === 2 || (variant !== undefined && (spec.variants ?? []).includes(variant))) {
          if (method === 'OPTIONS') {
            res.writeHead(204, { ...cors, 'Accept-Post': 'application/sdp', ...linkHeader }).end();
          } else if (method !== 'POST') {
            notAllowed(res, 'use POST with an SDP offer', 'POST, OPTIONS');
          } else {
            await post(req, res, decodeURIComponent(parts[1]!), variant, ctx);
          }
          return;
        }
        if (parts.length === 4 && parts[2] === 'sessions') {
          await session(req, res, decodeURIComponent(parts[1]!), parts[3]!, ctx);
          return;
        }
        throw new OnairError('not_found', `no such ${name} endpoint`);
      } catch (caught) {
        const err = answerable(caught);
        if (!err) throw caught;
        const retry =
          err.code === 'rate_limited'
            ? limiter.retryAfterSeconds(clientAddress(req))
            : spec.retryAfter?.[err.code];
        fail(res, err, retry !== undefined ? { 'Retry-After': String(retry) } : {});
      }
    },
  };
}
