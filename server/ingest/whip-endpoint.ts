/**
 * WHIP (RFC 9725): POST /whip/:channelId creates a publisher session; the
 * session URL answers DELETE (end) and PATCH (trickle ICE, not supported: 405
 * as the RFC allows). The channel hub decides whether it takes the publisher.
 */
import type { IncomingMessage } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelMode, ChannelState, IngestRole } from '../../lib/schemas.ts';
import type { IceServer } from '../config.ts';
import { isAllowed } from '../http/allow-list.ts';
import { bearerToken, secretEquals } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { webRtcMount, type SignalledSession } from '../http/webrtc-endpoint.ts';
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
export type WhipSession = SignalledSession;

export interface WhipHub {
  getChannel(id: string): Promise<WhipChannel | undefined>;
  /** Creates a publisher and attaches it to the running channel; throws OnairError. */
  /** The primary input, or the backup the output fails over to (same stream key). */
  publish(channelId: string, offer: string, summary: OfferSummary, role: IngestRole): Promise<WhipSession>;
  findSession(channelId: string, sessionId: string): WhipSession | undefined;
}

export function whipMount(
  hub: WhipHub,
  opts: { iceServers: IceServer[]; rateLimitPerMinute: number },
): MediaMount {
  return webRtcMount({
    protocol: 'whip',
    iceServers: opts.iceServers,
    rateLimitPerMinute: opts.rateLimitPerMinute,
    rateLimit: 'failures',
    variants: ['backup'],
    challenge: 'Bearer realm="whip"',
    countsAuthFailures: true,
    deleteReason: 'publisher ended the session (DELETE)',
    findSession: (channelId, sessionId) => hub.findSession(channelId, sessionId),
    authorizeSession: async (req, channelId) => authorize(req, await hub.getChannel(channelId)),
    async post({ req, channelId, variant, address, readOffer }) {
      const channel = await hub.getChannel(channelId);
      if (!channel)
        throw new OnairError('channel_not_found', `channel ${JSON.stringify(channelId)} does not exist`);
      authorize(req, channel);
      if (!isAllowed(channel.ingest, address))
        throw new OnairError('forbidden', "your address is not in the channel's ingest allow-list");
      const offer = await readOffer();
      const summary = inspectOffer(offer, { requireH264: channel.mode === 'passthrough' });
      if (channel.state !== 'running') {
        throw new OnairError(
          'channel_not_running',
          `channel is ${channel.state}; start it before publishing`,
        );
      }
      checkTransport(offer);
      const role: IngestRole = variant === 'backup' ? 'backup' : 'primary';
      return hub.publish(channel.id, offer, summary, role);
    },
  });
}

function authorize(req: IncomingMessage, channel: WhipChannel | undefined): asserts channel is WhipChannel {
  const token = bearerToken(req);
  if (!channel) {
    throw new OnairError('channel_not_found', 'no such channel');
  }
  if (!token || !secretEquals(token, channel.streamKey)) {
    throw new OnairError('unauthorized', 'missing or wrong stream key (Authorization: Bearer <stream key>)');
  }
}
