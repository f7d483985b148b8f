/**
 * Errors of the media path (MP4 reading, timeline, FFmpeg, ports). They carry a
 * stable code and no HTTP meaning: the HTTP edge maps them (server/http/http.ts).
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
] as const;

export type MediaErrorCode = (typeof MEDIA_ERROR_CODES)[number];

export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'MediaError';
    this.code = code;
  }
}
