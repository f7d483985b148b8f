/**
 * A browser WHEP player (the IETF WISH WebRTC-HTTP Egress Protocol draft):
 * recvonly video and audio, a non-trickle offer POSTed to /whep/:channelId,
 * the session URL from the Location header ends the session. ICE servers come
 * from the endpoint's `Link` headers (an OPTIONS request first).
 *
 * The pure helpers (errors, retry delays, the delay estimate from getStats,
 * Link parsing) are exported for tests.
 */

import { endSession, negotiate, readErrorBody, withDefaults, type SessionErrors } from './webrtc-session.ts';

export type WhepErrorCode =
  | 'publisher_not_live'
  | 'channel_not_running'
  | 'channel_not_found'
  | 'viewer_limit_reached'
  | 'forbidden'
  | 'rate_limited'
  | 'unsupported_offer'
  | 'unsupported_browser'
  | 'network_error'
  | 'connect_failed'
  | 'connect_timeout'
  | 'http_error';

export class WhepError extends Error {
  readonly code: WhepErrorCode;
  readonly status: number;
  /** The server's Retry-After, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: WhepErrorCode, message: string, status = 0, retryAfterSeconds?: number) {
    super(message);
    this.name = 'WhepError';
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Nothing to watch yet: the player waits and tries again (409). */
  get waiting(): boolean {
    return this.code === 'publisher_not_live' || this.code === 'channel_not_running';
  }

  /** WebRTC itself failed here (no WebRTC, no UDP path, no common codec): another protocol may work. */
  get transportFailed(): boolean {
    return (
      this.code === 'unsupported_browser' ||
      this.code === 'connect_failed' ||
      this.code === 'connect_timeout' ||
      this.code === 'unsupported_offer'
    );
  }
}

const KNOWN: readonly WhepErrorCode[] = [
  'publisher_not_live',
  'channel_not_running',
  'channel_not_found',
  'viewer_limit_reached',
  'forbidden',
  'rate_limited',
  'unsupported_offer',
];

/** Maps a failed WHEP response (status, the server's JSON error body, Retry-After) to a WhepError. */
export function whepErrorFromResponse(
  status: number,
  body: string,
  retryAfter: string | null = null,
): WhepError {
  const { code, message } = readErrorBody(body);
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  if (code && (KNOWN as readonly string[]).includes(code))
    return new WhepError(code as WhepErrorCode, message || code, status, seconds);
  const byStatus: Record<number, WhepErrorCode> = {
    403: 'forbidden',
    404: 'channel_not_found',
    409: 'publisher_not_live',
    422: 'unsupported_offer',
    429: 'rate_limited',
    503: 'viewer_limit_reached',
  };
  const fallback = byStatus[status];
  if (fallback) return new WhepError(fallback, message || fallback, status, seconds);
  return new WhepError('http_error', message || `the server answered ${status}`, status, seconds);
}

/** A sentence for a viewer, for any error the player can meet. */
export function describeWhepError(err: unknown): string {
  if (!(err instanceof WhepError)) return err instanceof Error ? err.message : String(err);
  if (err.code === 'http_error') return `Playback failed: ${err.message}.`;
  return WHEP_WORDS[err.code] ?? err.message;
}

const WHEP_WORDS: Partial<Record<WhepError['code'], string>> = {
  publisher_not_live: 'Waiting for the stream. It will start as soon as the channel goes live.',
  channel_not_running: 'The channel is offline. It will start playing when the stream comes back.',
  channel_not_found: 'This channel does not exist.',
  viewer_limit_reached: 'Too many real-time viewers right now. Retrying…',
  forbidden: 'This stream is not available from your network.',
  rate_limited: 'Too many attempts. Retrying in a moment…',
  unsupported_offer: 'This browser cannot receive the stream’s codecs in real time.',
  unsupported_browser: 'This browser does not support real-time (WebRTC) playback.',
  network_error: 'The server cannot be reached. Retrying…',
  connect_failed: 'The real-time connection failed. A firewall may be blocking WebRTC (UDP) traffic.',
  connect_timeout: 'The real-time connection failed. A firewall may be blocking WebRTC (UDP) traffic.',
};

/**
 * How long to wait before trying again: the server's Retry-After when it sent
 * one, else 1 s doubling per attempt up to 15 s; plus up to 20 % jitter so that
 * many players waiting for the same publisher do not all arrive at once.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(15_000, 1000 * 2 ** Math.max(0, attempt));
  const base = retryAfterSeconds !== undefined ? Math.max(500, retryAfterSeconds * 1000) : backoff;
  return Math.round(base * (1 + 0.2 * random()));
}

/** ICE servers from `Link: <stun:…>; rel="ice-server"; username="…"; credential="…"` header values. */
export function parseIceServerLinks(header: string | null): RTCIceServer[] {
  if (!header) return [];
  const servers: RTCIceServer[] = [];
  for (const m of header.matchAll(/<([^>]+)>([^,<]*)/g)) {
    const params = m[2] ?? '';
    if (!/;\s*rel="?ice-server"?/i.test(params)) continue;
    const server: RTCIceServer = { urls: m[1]! };
    const username = /;\s*username="([^"]*)"/i.exec(params)?.[1];
    const credential = /;\s*credential="([^"]*)"/i.exec(params)?.[1];
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    servers.push(server);
  }
  return servers;
}

/** What the player reads from getStats() once a second. */
export interface ReceiveSample {
  framesDecoded: number;
  /** Cumulative jitter-buffer delay of video (s) and the frames it covers. */
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalDecodeTime: number;
  /** Round-trip time of the selected candidate pair (s), if known. */
  roundTripTime: number | undefined;
  audioPacketsReceived: number;
  audioSamplesReceived: number;
}

interface StatsEntry {
  type: string;
  kind?: string;
  state?: string;
  nominated?: boolean;
  selected?: boolean;
  [key: string]: unknown;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The figures the player needs from one getStats() report. */
export function readReceiveSample(stats: Iterable<StatsEntry>): ReceiveSample {
  const s: ReceiveSample = {
    framesDecoded: 0,
    jitterBufferDelay: 0,
    jitterBufferEmittedCount: 0,
    totalDecodeTime: 0,
    roundTripTime: undefined,
    audioPacketsReceived: 0,
    audioSamplesReceived: 0,
  };
  for (const e of stats) {
    if (e.type === 'inbound-rtp' && e.kind === 'video') {
      s.framesDecoded += num(e.framesDecoded);
      s.jitterBufferDelay += num(e.jitterBufferDelay);
      s.jitterBufferEmittedCount += num(e.jitterBufferEmittedCount);
      s.totalDecodeTime += num(e.totalDecodeTime);
    } else if (e.type === 'inbound-rtp' && e.kind === 'audio') {
      s.audioPacketsReceived += num(e.packetsReceived);
      s.audioSamplesReceived += num(e.totalSamplesReceived);
    } else if (
      e.type === 'candidate-pair' &&
      e.state === 'succeeded' &&
      (e.nominated === true || e.selected === true) &&
      typeof e.currentRoundTripTime === 'number'
    ) {
      s.roundTripTime = e.currentRoundTripTime;
    }
  }
  return s;
}

/**
 * The player's own estimate of how far behind the publisher it shows the
 * picture, in seconds, between two samples: half the round trip (the network
 * from the server, and about as much again from the publisher), the time a
 * frame waited in the jitter buffer, and decoding. Undefined until frames flow.
 */
export function estimateDelaySeconds(
  prev: ReceiveSample | undefined,
  next: ReceiveSample,
): number | undefined {
  const frames = next.jitterBufferEmittedCount - (prev?.jitterBufferEmittedCount ?? 0);
  const decoded = next.framesDecoded - (prev?.framesDecoded ?? 0);
  if (frames <= 0 || decoded <= 0) return undefined;
  const jitter = (next.jitterBufferDelay - (prev?.jitterBufferDelay ?? 0)) / frames;
  const decode = (next.totalDecodeTime - (prev?.totalDecodeTime ?? 0)) / decoded;
  const network = next.roundTripTime ?? 0; // half to us, half from the publisher: about one RTT
  return Math.max(0, jitter + decode + network);
}

export interface WhepPlayOptions {
  /** The channel's WHEP endpoint. */
  url: string;
  /** A playback token, for channels that need one (sent as `Authorization: Bearer`). */
  token?: string;
  iceGatheringTimeoutMs?: number;
  connectTimeoutMs?: number;
  rtcConfiguration?: RTCConfiguration;
  onConnectionStateChange?: (state: RTCPeerConnectionState) => void;
}

const WHEP_ERRORS: SessionErrors<WhepError> = {
  make: (code, message, status) => new WhepError(code, message, status),
  fromResponse: (res, body) => whepErrorFromResponse(res.status, body, res.headers.get('Retry-After')),
  is: (err): err is WhepError => err instanceof WhepError,
};

export class WhepSession {
  readonly stream: MediaStream;
  readonly #pc: RTCPeerConnection;
  readonly #sessionUrl: string;
  #last: ReceiveSample | undefined;
  #stopped = false;

  private constructor(pc: RTCPeerConnection, stream: MediaStream, sessionUrl: string) {
    this.#pc = pc;
    this.stream = stream;
    this.#sessionUrl = sessionUrl;
  }

  /** Negotiates a viewer session; resolves once media can flow (connected). Throws WhepError. */
  static async start(opts: WhepPlayOptions): Promise<WhepSession> {
    if (typeof RTCPeerConnection === 'undefined')
      throw new WhepError('unsupported_browser', 'RTCPeerConnection is not available');
    const iceServers = await fetch(opts.url, { method: 'OPTIONS', cache: 'no-store' }).then(
      (r) => parseIceServerLinks(r.headers.get('Link')),
      () => [] as RTCIceServer[],
    );
    const pc = new RTCPeerConnection({ iceServers, ...opts.rtcConfiguration });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => stream.addTrack(e.track));
    return negotiate(pc, {
      ...withDefaults(opts, { iceGatheringTimeoutMs: 3_000, connectTimeoutMs: 10_000 }, WHEP_ERRORS),
      setup: () => {
        pc.addTransceiver('video', { direction: 'recvonly' });
        pc.addTransceiver('audio', { direction: 'recvonly' });
      },
      session: (sessionUrl) => new WhepSession(pc, stream, sessionUrl),
    });
  }

  get connectionState(): RTCPeerConnectionState {
    return this.#pc.connectionState;
  }

  get sessionUrl(): string {
    return this.#sessionUrl;
  }

  /** The receive figures now, and the delay estimate since the previous call. */
  async sample(): Promise<{ sample: ReceiveSample; delaySeconds: number | undefined }> {
    const report = await this.#pc.getStats();
    const entries: StatsEntry[] = [];
    report.forEach((v: StatsEntry) => entries.push(v));
    const sample = readReceiveSample(entries);
    const delaySeconds = estimateDelaySeconds(this.#last, sample);
    this.#last = sample;
    return { sample, delaySeconds };
  }

  /** Ends the session on the server (DELETE) and closes the connection; never throws. */
  async stop(opts: { keepalive?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await endSession(this.#pc, this.#sessionUrl, { keepalive: opts.keepalive });
  }
}
