/**
 * WHEP (the IETF WISH WebRTC-HTTP Egress Protocol draft): POST /whep/:channelId
 * with a recvonly SDP offer creates a viewer session of the channel's live
 * source and answers 201 with a sendonly answer; the session URL answers DELETE
 * (end) and PATCH (trickle ICE, not supported: 405, as for WHIP). Public like
 * the HLS/DASH origin: the channel's preview allow-list applies, no token.
 */
import { OnairError } from '../../lib/errors.ts';
import type { ChannelState, PlaybackMode } from '../../lib/schemas.ts';
import type { IceServer } from '../config.ts';
import { isAllowed } from '../http/allow-list.ts';
import { bearerToken } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { webRtcMount, type SignalledSession } from '../http/webrtc-endpoint.ts';
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
export type WhepSession = SignalledSession;

export interface WhepHub {
  getChannel(id: string): Promise<WhepChannel | undefined>;
  /** Creates a viewer of the running channel's live source; throws OnairError. */
  watch(channelId: string, offer: string, summary: ViewerOfferSummary): Promise<WhepSession>;
  findSession(channelId: string, sessionId: string): WhepSession | undefined;
}

export interface WhepOptions {
  verifyPlayback?: VerifyViewer;
  iceServers: IceServer[];
  rateLimitPerMinute: number;
}

export function whepMount(hub: WhepHub, opts: WhepOptions): MediaMount {
  return webRtcMount({
    protocol: 'whep',
    iceServers: opts.iceServers,
    rateLimitPerMinute: opts.rateLimitPerMinute,
    rateLimit: 'requests',
    headers: { 'Cache-Control': 'no-store' },
    exposeRetryAfter: true,
    // When a player should try again, in seconds, for the refusals that pass.
    retryAfter: { publisher_not_live: 2, channel_not_running: 5, viewer_limit_reached: 10 },
    deleteReason: 'viewer ended the session (DELETE)',
    findSession: (channelId, sessionId) => hub.findSession(channelId, sessionId),
    async post({ req, channelId, address, readOffer }) {
      const channel = await hub.getChannel(channelId);
      if (!channel)
        throw new OnairError('channel_not_found', `channel ${JSON.stringify(channelId)} does not exist`);
      if (!isAllowed(channel.preview, address))
        throw new OnairError('forbidden', "your address is not in the channel's preview allow-list");
      if (channel.playback === 'token') {
        if (!opts.verifyPlayback) throw new OnairError('forbidden', 'playback tokens are not available');
        opts.verifyPlayback(bearerToken(req), { channelId: channel.id });
      }
      const offer = await readOffer();
      const summary = inspectViewerOffer(offer);
      if (channel.state !== 'running') {
        throw new OnairError('channel_not_running', `channel is ${channel.state}; nothing to watch`);
      }
      checkTransport(offer);
      return hub.watch(channel.id, offer, summary);
    },
  });
}
