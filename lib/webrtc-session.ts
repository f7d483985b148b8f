/**
 * What the browser's WHIP publisher and WHEP player share: a non-trickle offer (ICE gathering
 * completes, or times out, before the POST), the POST itself, the answer, waiting for the peer
 * connection to connect, and the DELETE that ends the session. Each client keeps its own errors
 * (`WhipError`, `WhepError`); this module makes them through the client's `SessionErrors`.
 */

/** The codes every signalling client has besides the server's own. */
export type TransportErrorCode = 'network_error' | 'connect_failed' | 'connect_timeout' | 'http_error';

export interface SessionErrors<E extends Error> {
  make(code: TransportErrorCode, message: string, status?: number): E;
  /** The error for a failed POST (status, the server's JSON error body, its headers). */
  fromResponse(res: Response, body: string): E;
  is(err: unknown): err is E;
}

/** The server's `{ error: { code, message } }`, or the start of a body that is not JSON. */
export function readErrorBody(body: string): { code: string | undefined; message: string } {
  let code: string | undefined;
  let message = '';
  try {
    const json = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof json.error?.code === 'string') code = json.error.code;
    if (typeof json.error?.message === 'string') message = json.error.message;
  } catch {
    message = body.slice(0, 200);
  }
  return { code, message };
}

export function waitForIceGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    // On timeout, go with the candidates gathered so far: that is usually enough.
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check(): void {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

function waitForConnected<E extends Error>(
  pc: RTCPeerConnection,
  timeoutMs: number,
  errors: SessionErrors<E>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(errors.make('connect_timeout', `not connected after ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    function finish(err?: E): void {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      if (err) reject(err);
      else resolve();
    }
    function check(): void {
      if (pc.connectionState === 'connected') finish();
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed')
        finish(errors.make('connect_failed', `connection ${pc.connectionState}`));
    }
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

export interface NegotiateOptions<E extends Error, S extends { stop(): Promise<void> }> {
  url: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  iceGatheringTimeoutMs: number;
  connectTimeoutMs: number;
  errors: SessionErrors<E>;
  onConnectionStateChange?: (state: RTCPeerConnectionState) => void;
  /** Adds the transceivers to offer. */
  setup(pc: RTCPeerConnection): void;
  /** Makes the client's session object once the server has answered with its URL. */
  session(sessionUrl: string): S;
}

/** What a caller of a WHIP or WHEP client may set: the endpoint, its token, timeouts and a state listener. */
export interface SessionOptions {
  url: string;
  token?: string;
  iceGatheringTimeoutMs?: number;
  connectTimeoutMs?: number;
  onConnectionStateChange?: (state: RTCPeerConnectionState) => void;
}

/** A caller's options for `negotiate`, with the protocol's default timeouts and its errors. */
export function withDefaults<E extends Error>(
  opts: SessionOptions,
  defaults: { iceGatheringTimeoutMs: number; connectTimeoutMs: number },
  errors: SessionErrors<E>,
) {
  return {
    url: opts.url,
    token: opts.token,
    iceGatheringTimeoutMs: opts.iceGatheringTimeoutMs ?? defaults.iceGatheringTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? defaults.connectTimeoutMs,
    errors,
    ...(opts.onConnectionStateChange ? { onConnectionStateChange: opts.onConnectionStateChange } : {}),
  };
}

/**
 * Offers what `pc` has (its transceivers set up), POSTs the offer, applies the answer and waits
 * until connected. On any failure the session is stopped and `pc` closed; the error is the
 * client's own.
 */
export async function negotiate<E extends Error, S extends { stop(): Promise<void> }>(
  pc: RTCPeerConnection,
  opts: NegotiateOptions<E, S>,
): Promise<S> {
  const { errors } = opts;
  const onState = () => opts.onConnectionStateChange?.(pc.connectionState);
  pc.addEventListener('connectionstatechange', onState);
  try {
    opts.setup(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, opts.iceGatheringTimeoutMs);
    let res: Response;
    try {
      res = await fetch(opts.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/sdp',
          ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
        },
        body: pc.localDescription?.sdp ?? '',
        cache: 'no-store',
      });
    } catch (err) {
      throw errors.make('network_error', (err as Error).message);
    }
    const body = await res.text();
    if (res.status !== 201 && res.status !== 200) throw errors.fromResponse(res, body);
    const location = res.headers.get('Location');
    if (!location) throw errors.make('http_error', 'the server did not return a session URL', res.status);
    const base = typeof window === 'undefined' ? opts.url : new URL(opts.url, window.location.href).href;
    const session = opts.session(new URL(location, base).href);
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
      await waitForConnected(pc, opts.connectTimeoutMs, errors);
    } catch (err) {
      await session.stop();
      throw errors.is(err) ? err : errors.make('connect_failed', (err as Error).message);
    }
    return session;
  } catch (err) {
    pc.removeEventListener('connectionstatechange', onState);
    if (pc.connectionState !== 'closed') pc.close();
    throw err;
  }
}

/** Ends a session on the server (DELETE) and closes the connection; never throws. */
export async function endSession(
  pc: RTCPeerConnection,
  sessionUrl: string,
  init: { token?: string; keepalive?: boolean },
): Promise<void> {
  try {
    await fetch(sessionUrl, {
      method: 'DELETE',
      ...(init.token ? { headers: { Authorization: `Bearer ${init.token}` } } : {}),
      keepalive: init.keepalive ?? false,
    });
  } catch {
    // The server ends the session on its own when the connection goes away or falls silent.
  } finally {
    pc.close();
  }
}
