/**
 * What a WHEP viewer gets, decided before any WebRTC work: for each kind the
 * source sends and the viewer can receive, the payload type of the viewer's
 * offer that carries it; and the offer restricted to those payload types, so
 * the answer offers only what the publisher sends. Pure.
 */
import { MediaError } from '../media/errors.ts';
import {
  matchOfferedCodec,
  restrictOfferCodecs,
  type OfferedCodec,
  type ViewerOfferSummary,
} from '../media/sdp.ts';
import type { MediaKind, SourceDescription, SourceTrack } from '../media/source.ts';

export interface PlannedTrack {
  kind: MediaKind;
  /** The source's track and codec. */
  track: SourceTrack;
  /** The codec as the viewer offered it (its payload type and fmtp). */
  offered: OfferedCodec;
  /** The section's index in the offer. */
  index: number;
}

export interface ViewerPlan {
  /** The offer with only the chosen payload type left in each served section. */
  offer: string;
  video: PlannedTrack | undefined;
  audio: PlannedTrack | undefined;
}

function codecLabel(track: SourceTrack): string {
  return track.codec.name === 'OPUS' ? 'Opus' : track.codec.name === 'H264' ? 'H.264' : track.codec.name;
}

export function planViewer(
  offer: string,
  summary: ViewerOfferSummary,
  source: SourceDescription,
): ViewerPlan {
  const plan: ViewerPlan = { offer, video: undefined, audio: undefined };
  const missing: string[] = [];
  for (const kind of ['video', 'audio'] as const) {
    const track = source.tracks.find((t) => t.kind === kind);
    const section = summary[kind];
    if (!track || !section) continue;
    const offered = matchOfferedCodec(section.media.codecs, track.codec);
    if (offered) plan[kind] = { kind, track, offered, index: section.index };
    else missing.push(codecLabel(track));
  }
  // A viewer that asks for video it cannot decode is told so, rather than served silence or sound only.
  const sent = source.tracks.map(codecLabel).join(' and ');
  if (missing.length > 0) {
    throw new MediaError(
      'unsupported_offer',
      `the channel sends ${sent}; the offer cannot receive ${missing.join(' or ')}`,
    );
  }
  if (!plan.video && !plan.audio) {
    throw new MediaError('unsupported_offer', `the channel sends ${sent}; the offer asks for none of it`);
  }
  const keep = new Map<number, number[]>();
  for (const t of [plan.video, plan.audio]) if (t) keep.set(t.index, [t.offered.payloadType]);
  plan.offer = restrictOfferCodecs(offer, keep);
  return plan;
}
