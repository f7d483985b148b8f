/** Who may publish to a running channel, and at what bitrate a WebRTC publisher is asked to send. */
import { OnairError } from '../../lib/errors.ts';
import type { Ladder } from '../../lib/ladders.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { OfferSummary } from '../media/sdp.ts';
import type { InputName, SessionCodecs } from '../source/failover-source.ts';

/** What the rules read of the failover switcher. */
export interface InputSlots {
  available(role: IngestRole): boolean;
  readonly active: InputName | undefined;
  readonly session: SessionCodecs | undefined;
}

/**
 * Throws unless a publisher may take `role` now: the slot is free and, while the channel is on air,
 * the offer sends the codecs the running session carries (both inputs feed one encoder run).
 */
export function assertCanAttach(
  inputs: InputSlots,
  role: IngestRole,
  offer?: Pick<OfferSummary, 'videoCodec' | 'audio'>,
): void {
  if (!inputs.available(role)) {
    throw new OnairError(
      'publisher_exists',
      `channel already has a live ${role} publisher; end that session first`,
    );
  }
  const session = inputs.active ? inputs.session : undefined;
  if (!offer || !session) return;
  if (offer.videoCodec !== session.video.name) {
    throw new OnairError(
      'unsupported_offer',
      `the channel is on air with ${session.video.name} video; the ${role} input must send ${session.video.name} too`,
    );
  }
  if ((offer.audio === undefined) !== (session.audio === undefined)) {
    throw new OnairError(
      'unsupported_offer',
      `the channel is on air ${session.audio ? 'with' : 'without'} audio; the ${role} input must match`,
    );
  }
}

/** The bitrate a WebRTC publisher is asked for: around the ladder's top rendition. */
export function publisherBitrate(ladder: Ladder): { min: number; start: number; max: number } {
  const topKbps = ladder.renditions[0]?.videoKbps ?? 3000;
  return { min: Math.round(topKbps / 2), start: Math.round(topKbps * 0.8), max: Math.round(topKbps * 1.35) };
}
