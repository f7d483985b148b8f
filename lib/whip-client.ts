/**
 * A browser WHIP publisher (RFC 9725): sends a MediaStream to a WHIP endpoint with
 * a bearer token. Non-trickle: ICE gathering completes (or times out) before the
 * offer is POSTed. The session URL from the Location header ends the session.
 *
 * The pure helpers (error words, bitrate from stats) are exported for tests.
 */

import { endSession, negotiate, readErrorBody, withDefaults, type SessionErrors } from './webrtc-session.ts';

export type WhipErrorCode =
  | 'unauthorized'
  | 'channel_not_running'
  | 'channel_not_found'
  | 'publisher_exists'
  | 'unsupported_offer'
  | 'rate_limited'
  | 'forbidden'
  | 'network_error'
  | 'connect_failed'
  | 'connect_timeout'
  | 'http_error';

export class WhipError extends Error {
  readonly code: WhipErrorCode;
  readonly status: number;

  constructor(code: WhipErrorCode, message: string, status = 0) {
    super(message);
    this.name = 'WhipError';
    this.code = code;
    this.status = status;
  }
}

/** Maps a failed WHIP response (status + the server's JSON error body, if any) to a WhipError. */
export function whipErrorFromResponse(status: number, body: string): WhipError {
  const { code, message } = readErrorBody(body);
  const known: readonly WhipErrorCode[] = [
    'unauthorized',
    'channel_not_running',
    'channel_not_found',
    'publisher_exists',
    'unsupported_offer',
    'rate_limited',
    'forbidden',
  ];
  if (code && (known as readonly string[]).includes(code))
    return new WhipError(code as WhipErrorCode, message || code, status);
  if (status === 401) return new WhipError('unauthorized', message || 'unauthorized', status);
  if (status === 403) return new WhipError('forbidden', message || 'forbidden', status);
  if (status === 404) return new WhipError('channel_not_found', message || 'not found', status);
  if (status === 429) return new WhipError('rate_limited', message || 'too many requests', status);
  if (status === 422) return new WhipError('unsupported_offer', message || 'unsupported offer', status);
  return new WhipError('http_error', message || `the server answered ${status}`, status);
}

/** A sentence for a person, for any error the publisher can throw. */
export function describeWhipError(err: unknown): string {
  if (!(err instanceof WhipError)) return err instanceof Error ? err.message : String(err);
  if (err.code === 'http_error') return `Going live failed: ${err.message}.`;
  if (err.code === 'unsupported_offer')
    return `The server cannot take what this browser sends${err.message ? ` (${err.message})` : ''}. Try another browser.`;
  return WHIP_WORDS[err.code] ?? err.message;
}

const WHIP_WORDS: Partial<Record<WhipError['code'], string>> = {
  unauthorized:
    'The stream key was not accepted. It may have been reset: reload the page to get the current key.',
  channel_not_running: 'The channel is not running. Start the channel first, then go live.',
  channel_not_found: 'This channel no longer exists.',
  publisher_exists:
    'Someone is already live on this channel (another browser tab or OBS). Stop that publisher first.',
  rate_limited: 'Too many attempts to go live. Wait a minute and try again.',
  forbidden:
    'This network address is not allowed to publish to the channel (see the channel’s ingest allow-list).',
  network_error: 'The onair server cannot be reached. Check your connection and that the server is running.',
  connect_failed:
    'The media connection to the server failed. A firewall may be blocking WebRTC (UDP) traffic.',
  connect_timeout:
    'The media connection to the server did not come up in time. A firewall may be blocking WebRTC (UDP) traffic.',
};

/** A sentence for a getUserMedia / enumerateDevices failure. */
export function describeMediaError(err: unknown): string {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera and microphone access is blocked. Click the camera icon in the address bar (or the site settings next to the address), allow the camera and microphone for this site, then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera or microphone matching the selection was found. Plug one in or pick another device.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera or microphone is in use by another application (or failed to start). Close the other application and try again.';
    case 'TypeError':
      return 'This page cannot use the camera: it must be opened over HTTPS (or on localhost).';
    default:
      return `The camera or microphone could not be opened${err instanceof Error && err.message ? ` (${err.message})` : ''}.`;
  }
}

export interface BytesSample {
  at: number;
  bytes: number;
}

/** Total bytesSent over every outbound-rtp entry of a stats report (audio + video). */
export function outboundBytes(stats: Iterable<{ type: string; bytesSent?: number }>): number {
  let total = 0;
  for (const s of stats)
    if (s.type === 'outbound-rtp' && typeof s.bytesSent === 'number') total += s.bytesSent;
  return total;
}

/** kbps between two samples; null when there is no earlier sample or time did not advance. */
export function bitrateKbps(prev: BytesSample | undefined, next: BytesSample): number | null {
  if (!prev || next.at <= prev.at) return null;
  return Math.max(0, ((next.bytes - prev.bytes) * 8) / (next.at - prev.at));
}

export type WhipConnectionState = RTCPeerConnectionState;

export interface WhipPublishOptions {
  /** The channel's WHIP endpoint. */
  url: string;
  /** The channel's stream key, sent as `Authorization: Bearer`. */
  token: string;
  iceGatheringTimeoutMs?: number;
  connectTimeoutMs?: number;
  onConnectionStateChange?: (state: WhipConnectionState) => void;
  rtcConfiguration?: RTCConfiguration;
}

const WHIP_ERRORS: SessionErrors<WhipError> = {
  make: (code, message, status) => new WhipError(code, message, status),
  fromResponse: (res, body) => whipErrorFromResponse(res.status, body),
  is: (err): err is WhipError => err instanceof WhipError,
};

export class WhipPublisher {
  readonly #pc: RTCPeerConnection;
  readonly #sessionUrl: string;
  readonly #token: string;
  #lastBytes: BytesSample | undefined;
  #stopped = false;

  private constructor(pc: RTCPeerConnection, sessionUrl: string, token: string) {
    this.#pc = pc;
    this.#sessionUrl = sessionUrl;
    this.#token = token;
  }

  /** POSTs an offer for `stream`'s tracks and resolves once the peer connection is connected. */
  static async publish(stream: MediaStream, opts: WhipPublishOptions): Promise<WhipPublisher> {
    const pc = new RTCPeerConnection(opts.rtcConfiguration);
    return negotiate(pc, {
      ...withDefaults(opts, { iceGatheringTimeoutMs: 5_000, connectTimeoutMs: 15_000 }, WHIP_ERRORS),
      setup: () => {
        const video = stream.getVideoTracks()[0];
        const audio = stream.getAudioTracks()[0];
        // Always offer a video and an audio section, so a device change can fill an empty one.
        pc.addTransceiver(video ?? 'video', { direction: 'sendonly', streams: [stream] });
        pc.addTransceiver(audio ?? 'audio', { direction: 'sendonly', streams: [stream] });
      },
      session: (sessionUrl) => new WhipPublisher(pc, sessionUrl, opts.token),
    });
  }

  get connectionState(): WhipConnectionState {
    return this.#pc.connectionState;
  }

  get sessionUrl(): string {
    return this.#sessionUrl;
  }

  /** Swaps the sent tracks (camera or microphone change) without renegotiating. */
  async replaceTracks(stream: MediaStream): Promise<void> {
    for (const t of this.#pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      const track = kind === 'video' ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
      await t.sender.replaceTrack(track ?? null);
    }
  }

  /** Outgoing kbps (audio + video) since the previous call; null on the first call. */
  async outgoingKbps(): Promise<number | null> {
    if (this.#stopped) return null;
    const report = await this.#pc.getStats();
    const entries: { type: string; bytesSent?: number }[] = [];
    report.forEach((v: { type: string; bytesSent?: number }) => entries.push(v));
    const sample = { at: performance.now(), bytes: outboundBytes(entries) };
    const kbps = bitrateKbps(this.#lastBytes, sample);
    this.#lastBytes = sample;
    return kbps;
  }

  /** Ends the session on the server (DELETE) and closes the connection; never throws. */
  async stop(opts: { keepalive?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await endSession(this.#pc, this.#sessionUrl, { token: this.#token, keepalive: opts.keepalive });
  }
}
