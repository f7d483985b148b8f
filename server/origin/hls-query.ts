/** LL-HLS blocking playlist reloads: the request's query and when it is answered. */
import { OnairError } from '../../lib/errors.ts';
import type { PlaylistEnd } from '../packager/hls.ts';

/** The LL-HLS query of a media playlist request; 400 for anything malformed. */
export interface HlsQuery {
  msn: number | undefined;
  part: number | undefined;
  skip: boolean;
}

const WHOLE = /^\d{1,9}$/;

export function parseHlsQuery(q: URLSearchParams | undefined): HlsQuery {
  const msnText = q?.get('_HLS_msn') ?? null;
  const partText = q?.get('_HLS_part') ?? null;
  const skipText = q?.get('_HLS_skip') ?? null;
  if (msnText !== null && !WHOLE.test(msnText))
    throw new OnairError('bad_request', '_HLS_msn must be a whole number');
  if (partText !== null && !WHOLE.test(partText))
    throw new OnairError('bad_request', '_HLS_part must be a whole number');
  if (partText !== null && msnText === null) throw new OnairError('bad_request', '_HLS_part needs _HLS_msn');
  if (skipText !== null && skipText !== 'YES' && skipText !== 'v2')
    throw new OnairError('bad_request', '_HLS_skip must be YES or v2');
  return {
    msn: msnText === null ? undefined : Number(msnText),
    part: partText === null ? undefined : Number(partText),
    skip: skipText !== null,
  };
}

/**
 * A blocking reload is answered once the playlist holds segment `msn` complete,
 * or (with `part`) that part of it: anything later satisfies it too.
 */
export function blockingSatisfied(
  end: PlaylistEnd | undefined,
  msn: number,
  part: number | undefined,
): boolean {
  if (!end) return false;
  if (end.msn > msn) return true;
  if (end.msn < msn) return false;
  if (end.complete) return true;
  return part !== undefined && (end.part ?? -1) >= part;
}

/** Holds a blocking reload at most this many target durations (then 503: the client retries). */
export const BLOCK_TARGET_DURATIONS = 3;
