/**
 * WHEP (the IETF WISH WebRTC-HTTP Egress Protocol draft): POST /whep/:channelId
 * with a recvonly SDP offer creates a viewer session of the channel's live
 * source and answers 201 with a sendonly answer; the session URL answers DELETE
 * (end) and PATCH (trickle ICE, not supported: 405, as for WHIP). Public like
 * the HLS/DASH origin: the channel's preview allow-list applies, and a playback
 * token when the channel's playback is `token`.
 *
 * A session keeps what it was admitted with (the client's address, its token
 * and the token's expiry): the hub checks it again when the channel's access
 * changes or the playback secret is rotated, and ends it when the token expires.
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
export type VerifyViewer = (
  token: string | undefined,
  scope: { channelId: string },
) => { scope: string; expiresAt: number };

/** What a viewer was let in with. */
export interface ViewerAdmission {
  /** The client's address, for the preview allow-list. */
  address: string;
  /** The playback token it presented (Authorization: Bearer), if any. */
  token: string | undefined;
  /** The token's scope and expiry (ms) when the channel needed one. */
  grant?: { scope: string; expiresAt: number };
}

/**
 * Throws unless `viewer` may watch `channel` now: `forbidden` (403) outside the
 * preview allow-list, and when the channel needs a token, the token's refusal
 * (401 token_required or token_expired, 403 token_invalid). Returns what the
 * token grants, if the channel needs one.
 */
export function checkViewerAccess(
  channel: WhepChannel,
  viewer: Pick<ViewerAdmission, 'address' | 'token'>,
  verifyPlayback: VerifyViewer | undefined,
): ViewerAdmission['grant'] {
  if (!isAllowed(channel.preview, viewer.address))
    throw new OnairError('forbidden', "your address is not in the channel's preview allow-list");
  if (channel.playback !== 'token') return undefined;
  if (!verifyPlayback) throw new OnairError('forbidden', 'playback tokens are not available');
  return verifyPlayback(viewer.token, { channelId: channel.id });
}

/** Why `viewer` may no longer watch `channel` (the refusal's message), or undefined while it may. */
export function lostAccess(
  channel: WhepChannel,
  viewer: ViewerAdmission,
  verifyPlayback: VerifyViewer | undefined,
): string | undefined {
  try {
    checkViewerAccess(channel, viewer, verifyPlayback);
    return undefined;
  } catch (err) {
    if (err instanceof OnairError) return `access ended: ${err.message}`;
    throw err;
  }
}

/** A viewer session, as its signalling sees it. */
export type WhepSession = SignalledSession;

export interface WhepHub {
  getChannel(id: string): Promise<WhepChannel | undefined>;
  /**
   * Creates a viewer of the running channel's live source, admitted with
   * `admission` (checked again when the channel's access changes); throws OnairError.
   */
  watch(
    channelId: string,
    offer: string,
    summary: ViewerOfferSummary,
    admission: ViewerAdmission,
  ): Promise<WhepSession>;
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
      const viewer = { address, token: bearerToken(req) };
      const grant = checkViewerAccess(channel, viewer, opts.verifyPlayback);
      const offer = await readOffer();
      const summary = inspectViewerOffer(offer);
      if (channel.state !== 'running') {
        throw new OnairError('channel_not_running', `channel is ${channel.state}; nothing to watch`);
      }
      checkTransport(offer);
      return hub.watch(channel.id, offer, summary, { ...viewer, ...(grant ? { grant } : {}) });
    },
  });
}
