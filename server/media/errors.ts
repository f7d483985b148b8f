/**
 * Errors of the media path (SDP, the SFU, MP4 reading, timeline, FFmpeg, ports).
 * They carry a stable code, a cause, and a `fatal` flag where callers branch on
 * it, and no HTTP meaning: the HTTP edge maps them (server/http/http.ts).
 */
export const MEDIA_ERROR_CODES = [
  /** Bytes that are not the media they claim to be (a truncated or corrupt MP4 box). */
  'malformed_media',
  /** Valid media that onair does not handle (a codec, a box version). */
  'unsupported_media',
  /** A call out of order: a segment before its run, a run id used twice. */
  'invalid_state',
  /** An argument outside what the function accepts. */
  'invalid_argument',
  /** FFmpeg could not be started, or exited before it was ready. */
  'encoder_failed',
  /** A UDP port could not be found or was not bound in time. */
  'port_unavailable',
  /** Text that is not SDP (no v=0, a malformed line or m-line). */
  'invalid_sdp',
  /** A valid SDP offer onair cannot serve (tracks, codecs, transport attributes). */
  'unsupported_offer',
  /** The channel's SFU router is closing or closed: nothing more can join it. */
  'router_closed',
  /** The SFU cannot take the request: it is shutting down, or has no worker running. */
  'sfu_unavailable',
] as const;

export type MediaErrorCode = (typeof MEDIA_ERROR_CODES)[number];

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  /** The component cannot go on (an SFU engine that cannot start): callers stop rather than retry. */
  readonly fatal: boolean;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = 'MediaError';
    this.code = code;
    this.fatal = options?.fatal ?? false;
  }
}
