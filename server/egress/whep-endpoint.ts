/**
 * WHEP (the IETF WISH WebRTC-HTTP Egress Protocol draft): POST /whep/:channelId
 * with a recvonly SDP offer creates a viewer session of the channel's live
 * source and answers 201 with a sendonly answer; the session URL answers DELETE
 * (end) and PATCH (trickle ICE, not supported: 405, as for WHIP). Public like
 * the HLS/DASH origin: the channel's preview allow-list applies, no token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError, type ErrorCode } from '../../lib/errors.ts';
import type { ChannelState, PlaybackMode } from '../../lib/schemas.ts';
import type { IceServer } from '../config.ts';
import { isAllowed } from '../http/allow-list.ts';
import { bearerToken, clientAddress, mediaType, readBody, toOnairError } from '../http/http.ts';
import { iceServerLinks } from '../http/ice-links.ts';
import type { MediaMount } from '../http/mount.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { MediaError } from '../media/errors.ts';
import { checkTransport, inspectViewerOffer, type ViewerOfferSummary } from '../media/sdp.ts';

/** What WHEP needs to know of a channel. */
export interface WhepChannel {
  readonly id: string;
  readonly state: ChannelState;
  readonly preview: readonly string[];
  /** `token`: a viewer sends a playback token as `Authorization: Bearer`. */
  readonly playback?: PlaybackMode;
}

/** Checks a playback token for a channel (server/auth/playback-token.ts); throws 401/403. */
export type VerifyViewer = (token: string | undefined, scope: { channelId: string }) => void;

/** A viewer session, as its signalling sees it. */
export interface WhepSession {
  readonly id: string;
  readonly answer: string;
  close(reason?: string): void;
}

export interface WhepHub {
  getChannel(id: string): WhepChannel | undefined;
  /** Creates a viewer of the running channel's live source; throws OnairError. */
  watch(channelId: string, offer: string, summary: ViewerOfferSummary): Promise<WhepSession>;
  findSession(channelId: string, sessionId: string): WhepSession | undefined;
}

export interface WhepOptions {
  verifyPlayback?: VerifyViewer;
  iceServers: IceServer[];
  rateLimitPerMinute: number;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
  'Access-Control-Expose-Headers': 'Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After',
  'Access-Control-Max-Age': '600',
};

/** When a player should try again, in seconds, for the refusals that pass. */
const RETRY_AFTER: Partial<Record<ErrorCode, number>> = {
  publisher_not_live: 2,
  channel_not_running: 5,
  viewer_limit_reached: 10,
};

export function whepMount(hub: WhepHub, opts: WhepOptions): MediaMount {
  const limiter = new RateLimiter(opts.rateLimitPerMinute, 60_000);
  const links = iceServerLinks(opts.iceServers);
  const linkHeader = links.length > 0 ? { Link: links.join(', ') } : {};

  const fail = (res: ServerResponse, err: OnairError, extra: Record<string, string> = {}) => {
    const body = JSON.stringify(err.toBody());
    res
      .writeHead(err.status, {
        ...CORS,
        'Content-Type': 'application/json; charset=utf-8',
        'Cache-Control': 'no-store',
        ...extra,
      })
      .end(body);
  };

  return {
    prefix: '/whep',
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
      const parts = url.pathname.split('/').filter(Boolean); // ['whep', channelId, ('sessions', sessionId)?]
      const method = req.method ?? 'GET';
      try {
        if (parts.length === 2) {
          const channelId = decodeURIComponent(parts[1]!);
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
          await handlePost(req, res, channelId);
          return;
        }
        if (parts.length === 4 && parts[2] === 'sessions') {
          const channelId = decodeURIComponent(parts[1]!);
          if (method === 'OPTIONS') {
            res
              .writeHead(204, { ...CORS, 'Accept-Patch': 'application/trickle-ice-sdpfrag', ...linkHeader })
              .end();
            return;
          }
          // The session id is the capability: 128 random bits, only ever sent to its viewer.
          const session = hub.findSession(channelId, parts[3]!);
          if (!session) throw OnairError.notFound('session', parts[3]!);
          if (method === 'DELETE') {
            session.close('viewer ended the session (DELETE)');
            res.writeHead(200, { ...CORS, 'Cache-Control': 'no-store' }).end();
            return;
          }
          if (method === 'PATCH') {
            if (mediaType(req) !== 'application/trickle-ice-sdpfrag') {
              throw new OnairError('unsupported_media_type', 'PATCH takes application/trickle-ice-sdpfrag');
            }
            await readBody(req);
            // All server candidates are in the answer and the viewer's come in its offer.
            fail(
              res,
              new OnairError(
                'method_not_allowed',
                'trickle ICE is not supported; send all candidates in the offer',
              ),
              { Allow: 'DELETE, OPTIONS' },
            );
            return;
          }
          fail(res, new OnairError('method_not_allowed', `${method} is not allowed on a WHEP session`), {
            Allow: 'PATCH, DELETE, OPTIONS',
          });
          return;
        }
        throw new OnairError('not_found', 'no such WHEP endpoint');
      } catch (caught) {
        const err = caught instanceof MediaError ? toOnairError(caught) : caught;
        if (err instanceof OnairError) {
          const retry =
            err.code === 'rate_limited'
              ? limiter.retryAfterSeconds(clientAddress(req))
              : RETRY_AFTER[err.code];
          fail(res, err, retry !== undefined ? { 'Retry-After': String(retry) } : {});
          return;
        }
        throw err;
      }
    },
  };

  async function handlePost(req: IncomingMessage, res: ServerResponse, channelId: string): Promise<void> {
    const address = clientAddress(req);
    if (!limiter.take(address)) throw new OnairError('rate_limited', 'too many WHEP requests; slow down');
    if (mediaType(req) !== 'application/sdp') {
      throw new OnairError(
        'unsupported_media_type',
        'the offer must be sent as Content-Type: application/sdp',
      );
    }
    const channel = hub.getChannel(channelId);
    if (!channel)
      throw new OnairError('channel_not_found', `channel ${JSON.stringify(channelId)} does not exist`);
    if (!isAllowed(channel.preview, address))
      throw new OnairError('forbidden', "your address is not in the channel's preview allow-list");
    if (channel.playback === 'token') {
      if (!opts.verifyPlayback) throw new OnairError('forbidden', 'playback tokens are not available');
      opts.verifyPlayback(bearerToken(req), { channelId: channel.id });
    }
    const offer = (await readBody(req)).toString('utf8');
    const summary = inspectViewerOffer(offer);
    if (channel.state !== 'running') {
      throw new OnairError('channel_not_running', `channel is ${channel.state}; nothing to watch`);
    }
    checkTransport(offer);
    const session = await hub.watch(channel.id, offer, summary);
    res.writeHead(201, {
      ...CORS,
      'Content-Type': 'application/sdp',
      'Cache-Control': 'no-store',
      Location: `/whep/${encodeURIComponent(channel.id)}/sessions/${session.id}`,
      ETag: `"${session.id.slice(0, 16)}"`,
      'Accept-Patch': 'application/trickle-ice-sdpfrag',
      ...linkHeader,
    });
    res.end(session.answer);
  }
}
