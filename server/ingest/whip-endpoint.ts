/**
 * WHIP (RFC 9725): POST /whip/:channelId creates a publisher session; the
 * session URL answers DELETE (end) and PATCH (trickle ICE, not supported: 405
 * as the RFC allows). The channel hub decides whether it takes the publisher.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelMode, ChannelState, IngestRole } from '../../lib/schemas.ts';
import type { IceServer } from '../config.ts';
import { isAllowed } from '../http/allow-list.ts';
import { bearerToken, clientAddress, mediaType, readBody, secretEquals, toOnairError } from '../http/http.ts';
import { iceServerLinks } from '../http/ice-links.ts';
import type { MediaMount } from '../http/mount.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { MediaError } from '../media/errors.ts';
import { checkTransport, inspectOffer, type OfferSummary } from '../media/sdp.ts';

/** What WHIP needs to know of a channel. */
export interface WhipChannel {
  readonly id: string;
  readonly state: ChannelState;
  readonly mode: ChannelMode;
  readonly streamKey: string;
  readonly ingest: readonly string[];
}

/** A publisher session, as its signalling sees it. */
export interface WhipSession {
  readonly id: string;
  readonly answer: string;
  close(reason?: string): void;
}

export interface WhipHub {
  getChannel(id: string): WhipChannel | undefined;
  /** Creates a publisher and attaches it to the running channel; throws OnairError. */
  /** The primary input, or the backup the output fails over to (same stream key). */
  publish(channelId: string, offer: string, summary: OfferSummary, role: IngestRole): Promise<WhipSession>;
  findSession(channelId: string, sessionId: string): WhipSession | undefined;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
  'Access-Control-Expose-Headers': 'Location, ETag, Link, Accept-Patch, Accept-Post',
  'Access-Control-Max-Age': '600',
};

export function whipMount(
  hub: WhipHub,
  opts: { iceServers: IceServer[]; rateLimitPerMinute: number },
): MediaMount {
  const limiter = new RateLimiter(opts.rateLimitPerMinute, 60_000);
  const links = iceServerLinks(opts.iceServers);
  const linkHeader = links.length > 0 ? { Link: links.join(', ') } : {};

  const fail = (res: ServerResponse, err: OnairError, extra: Record<string, string> = {}) => {
    const body = JSON.stringify(err.toBody());
    const headers: Record<string, string> = {
      ...CORS,
      'Content-Type': 'application/json; charset=utf-8',
      ...extra,
    };
    if (err.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer realm="whip"';
    res.writeHead(err.status, headers).end(body);
  };

  return {
    prefix: '/whip',
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
      // ['whip', channelId], ['whip', channelId, 'backup'], ['whip', channelId, 'sessions', sessionId]
      const parts = url.pathname.split('/').filter(Boolean);
      const method = req.method ?? 'GET';
      try {
        if (parts.length === 2 || (parts.length === 3 && parts[2] === 'backup')) {
          const channelId = decodeURIComponent(parts[1]!);
          const role: IngestRole = parts.length === 3 ? 'backup' : 'primary';
          if (method === 'OPTIONS') {
            res.writeHead(204, { ...CORS, 'Accept-Post': 'application/sdp', ...linkHeader }).end();
            return;
          }
          if (method !== 'POST') {
            fail(res, new OnairError('method_not_allowed', 'use POST with an SDP offer'), {
              Allow: 'POST, OPTIONS',
            });
            return;
          }
          try {
            await handlePost(req, res, channelId, role);
          } catch (err) {
            // Only failed POSTs count: a publisher that gets in is never slowed down.
            const error = err instanceof MediaError ? toOnairError(err) : err;
            if (error instanceof OnairError && error.code !== 'rate_limited') limiter.hit(clientAddress(req));
            throw error;
          }
          return;
        }
        if (parts.length === 4 && parts[2] === 'sessions') {
          const channelId = decodeURIComponent(parts[1]!);
          const session = hub.findSession(channelId, parts[3]!);
          if (method === 'OPTIONS') {
            res
              .writeHead(204, { ...CORS, 'Accept-Patch': 'application/trickle-ice-sdpfrag', ...linkHeader })
              .end();
            return;
          }
          const channel = hub.getChannel(channelId);
          authorize(req, channel);
          if (!session) throw OnairError.notFound('session', parts[3]!);
          if (method === 'DELETE') {
            session.close('publisher ended the session (DELETE)');
            res.writeHead(200, CORS).end();
            return;
          }
          if (method === 'PATCH') {
            if (mediaType(req) !== 'application/trickle-ice-sdpfrag') {
              throw new OnairError('unsupported_media_type', 'PATCH takes application/trickle-ice-sdpfrag');
            }
            await readBody(req);
            // All server candidates are in the answer and the client's arrive in its
            // offer; trickle and ICE restarts are not supported (RFC 9725 §4.3.1).
            fail(
              res,
              new OnairError(
                'method_not_allowed',
                'trickle ICE is not supported; send all candidates in the offer',
              ),
              {
                Allow: 'DELETE, OPTIONS',
              },
            );
            return;
          }
          fail(res, new OnairError('method_not_allowed', `${method} is not allowed on a WHIP session`), {
            Allow: 'PATCH, DELETE, OPTIONS',
          });
          return;
        }
        throw new OnairError('not_found', 'no such WHIP endpoint');
      } catch (err) {
        if (err instanceof OnairError) {
          fail(
            res,
            err,
            err.code === 'rate_limited'
              ? { 'Retry-After': String(limiter.retryAfterSeconds(clientAddress(req))) }
              : {},
          );
          return;
        }
        throw err;
      }
    },
  };

  function authorize(req: IncomingMessage, channel: WhipChannel | undefined): asserts channel is WhipChannel {
    const token = bearerToken(req);
    if (!channel) {
      throw new OnairError('channel_not_found', 'no such channel');
    }
    if (!token || !secretEquals(token, channel.streamKey)) {
      throw new OnairError(
        'unauthorized',
        'missing or wrong stream key (Authorization: Bearer <stream key>)',
      );
    }
  }

  async function handlePost(
    req: IncomingMessage,
    res: ServerResponse,
    channelId: string,
    role: IngestRole,
  ): Promise<void> {
    const address = clientAddress(req);
    if (limiter.isLimited(address))
      throw new OnairError('rate_limited', 'too many failed WHIP requests; slow down');
    if (mediaType(req) !== 'application/sdp') {
      throw new OnairError(
        'unsupported_media_type',
        'the offer must be sent as Content-Type: application/sdp',
      );
    }
    const channel = hub.getChannel(channelId);
    if (!channel)
      throw new OnairError('channel_not_found', `channel ${JSON.stringify(channelId)} does not exist`);
    authorize(req, channel);
    if (!isAllowed(channel.ingest, address))
      throw new OnairError('forbidden', "your address is not in the channel's ingest allow-list");
    const offer = (await readBody(req)).toString('utf8');
    const summary = inspectOffer(offer, { requireH264: channel.mode === 'passthrough' });
    if (channel.state !== 'running') {
      throw new OnairError('channel_not_running', `channel is ${channel.state}; start it before publishing`);
    }
    checkTransport(offer);
    const session = await hub.publish(channel.id, offer, summary, role);
    const location = `/whip/${encodeURIComponent(channel.id)}/sessions/${session.id}`;
    res.writeHead(201, {
      ...CORS,
      'Content-Type': 'application/sdp',
      Location: location,
      ETag: `"${session.id.slice(0, 16)}"`,
      'Accept-Patch': 'application/trickle-ice-sdpfrag',
      ...linkHeader,
    });
    res.end(session.answer);
  }
}
