/**
 * The RTMP (and RTMPS) listener shared by every channel, as OBS and hardware
 * encoders expect: server `rtmp://host/live`, stream key the channel's key.
 *
 *   rtmp://host/live/<key>                 the channel's primary input
 *   rtmp://host/live-backup/<key>          its backup input
 *   rtmp://host/live/<key>/<rendition>     one rendition of a multi-bitrate (passthrough-abr) channel
 *
 * The key is checked at `publish`, before any media is taken: a wrong key, a
 * stopped channel, a second publisher are answered with an error status and the
 * connection is closed. Every refusal counts against the client address; past
 * the limit its connections are closed at once for the rest of the minute.
 *
 * Connections that have not yet published with a valid key are bounded per address and in all
 * (the rest are closed at once), and no message may declare more than MAX_RTMP_MESSAGE_BYTES.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { OnairError } from '../../lib/errors.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { Logger } from '../log.ts';
import type { RtmpChannelIngest } from './rtmp-ingest.ts';
import { RtmpMessageTooLargeError, RtmpProtocol, type PublishDecision } from './rtmp-protocol.ts';
import type { RtmpPublisher } from './rtmp-publisher.ts';

export const RTMP_APPS: Record<string, IngestRole> = { live: 'primary', 'live-backup': 'backup' };
const RENDITION = /^[A-Za-z0-9_-]{1,32}$/;
/** A connection that has not published after this long is closed. */
const PUBLISH_TIMEOUT_MS = 15_000;

export interface RtmpTarget {
  role: IngestRole;
  key: string;
  rendition: string | undefined;
}

/** Where a publisher wants to go, from the app and stream name of its `connect` and `publish`. */
export function parseRtmpTarget(app: string, name: string): RtmpTarget | { error: string } {
  // Encoders split the same path differently (OBS: app "live", name "<key>"; FFmpeg with
  // rtmp://host/live/<key>/<rendition>: app "live/<key>", name "<rendition>"): join, then split.
  const parts = `${app}/${name}`.split('/').filter(Boolean);
  const role = RTMP_APPS[parts[0] ?? ''];
  // The application is not quoted back: a key typed into the server URL would land in the log.
  if (!role) return { error: 'unknown application: publish to rtmp://<host>/live' };
  const key = parts[1];
  if (!key) return { error: 'no stream key: set the stream key to the channel’s key' };
  const rendition = parts[2];
  if (parts.length > 3 || (rendition !== undefined && !RENDITION.test(rendition)))
    return { error: 'a rendition name is 1–32 letters, digits, - or _' };
  return { role, key, rendition };
}

/** The app and stream name with the stream key (or whatever stands in its place) redacted, for logs. */
export function redactRtmpPath(app: string, name: string): string {
  const parts = `${app}/${name}`.split('/').filter(Boolean);
  return parts
    .map((p, i) => {
      if (i === 0) return RTMP_APPS[p] ? p : '[redacted]';
      return i === 2 && RENDITION.test(p) ? p : '[redacted]';
    })
    .join('/');
}

export interface RtmpHub {
  /**
   * The running channel whose stream key is `key`, for a publisher at `address`.
   * Rejects with an OnairError: unauthorized (no channel has that key), channel_not_running,
   * forbidden (address not in the channel's ingest allow-list).
   */
  channelFor(key: string, address: string): Promise<RtmpChannelIngest>;
}

export interface RtmpServerOptions {
  host: string;
  /** 0: no plain RTMP. */
  port: number;
  /** RTMPS, when a certificate is configured. */
  tls?: { port: number; cert: Buffer; key: Buffer };
  hub: RtmpHub;
  /** Refused publishes per client address per minute before its connections are dropped. */
  failureLimitPerMinute: number;
  /** Connections not yet publishing with a valid key, per client address and in all. */
  pendingPerAddress: number;
  pendingMax: number;
  log: Logger;
}

function plainAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export class RtmpServer {
  readonly #opts: RtmpServerOptions;
  readonly #servers: { server: Server; port: number; secure: boolean }[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #limiter: RateLimiter;
  /** Unauthenticated connections by client address. */
  readonly #pending = new Map<string, number>();
  #pendingTotal = 0;
  #closed = false;
  /** Refused publishes since start (for tests and metrics). */
  refused = 0;

  constructor(opts: RtmpServerOptions) {
    this.#opts = opts;
    this.#limiter = new RateLimiter(opts.failureLimitPerMinute, 60_000);
  }

  /** Bound ports: `rtmp` and, with a certificate, `rtmps`. */
  get ports(): { rtmp: number | undefined; rtmps: number | undefined } {
    return {
      rtmp: this.#servers.find((s) => !s.secure)?.port,
      rtmps: this.#servers.find((s) => s.secure)?.port,
    };
  }

  async listen(): Promise<void> {
    const { port, tls, host } = this.#opts;
    const start = (server: Server, p: number, secure: boolean) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, host, () => {
          server.off('error', reject);
          server.on('error', (err) => this.#opts.log.error({ err }, 'RTMP listener error'));
          const addr = server.address();
          this.#servers.push({ server, port: typeof addr === 'object' && addr ? addr.port : p, secure });
          resolve();
        });
      });
    if (port > 0)
      await start(
        createTcpServer((s) => this.#accept(s)),
        port,
        false,
      );
    if (tls) {
      const server = createTlsServer({ cert: tls.cert, key: tls.key }, (s) => this.#accept(s));
      server.on('tlsClientError', () => undefined);
      await start(server, tls.port, true);
    }
  }

  #accept(socket: Socket): void {
    const address = plainAddress(socket);
    if (this.#closed || this.#limiter.isLimited(address)) {
      socket.destroy();
      return;
    }
    const { pendingPerAddress, pendingMax } = this.#opts;
    if (this.#pendingTotal >= pendingMax || (this.#pending.get(address) ?? 0) >= pendingPerAddress) {
      this.#opts.log.warn(
        { address, pending: this.#pending.get(address) ?? 0, total: this.#pendingTotal },
        'too many unauthenticated RTMP connections: connection closed',
      );
      socket.destroy();
      return;
    }
    let pending = true;
    this.#pendingTotal++;
    this.#pending.set(address, (this.#pending.get(address) ?? 0) + 1);
    const authenticated = () => {
      if (!pending) return;
      pending = false;
      this.#pendingTotal--;
      const n = (this.#pending.get(address) ?? 1) - 1;
      if (n > 0) this.#pending.set(address, n);
      else this.#pending.delete(address);
    };
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    let publisher: RtmpPublisher | undefined;
    let ending = false;
    const end = (reason: string) => {
      if (ending) return;
      ending = true;
      this.#opts.log.debug({ address, reason }, 'RTMP connection closing');
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const publishTimer = setTimeout(() => {
      if (!publisher) end('did not publish in time');
    }, PUBLISH_TIMEOUT_MS);
    publishTimer.unref();
    const protocol = new RtmpProtocol({
      output: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
      play: () => end('RTMP playback is not offered'),
      packet: (p) => publisher?.packet(p),
      publish: async (app, name): Promise<PublishDecision> => {
        const decision = await this.#decide(app, name, address, end).catch((err: unknown) => {
          // Not a refusal but a fault (the store, a bug): logged, and this publisher is turned away.
          this.#opts.log.error({ err, address }, 'RTMP publish could not be decided');
          return { ok: false, code: 'NetStream.Publish.Rejected', description: 'server error' } as const;
        });
        if ('publisher' in decision && (ending || socket.destroyed)) {
          // The connection went while the key was checked.
          decision.publisher.feed.close('the publisher disconnected');
          return { ok: false, code: 'NetStream.Publish.Rejected', description: 'disconnected' };
        }
        if ('publisher' in decision) {
          publisher = decision.publisher;
          authenticated();
          clearTimeout(publishTimer);
          return { ok: true };
        }
        this.refused++;
        this.#limiter.hit(address);
        this.#opts.log.info(
          { address, path: redactRtmpPath(app, name), reason: decision.description },
          'RTMP publish refused',
        );
        // The status goes out first; then the connection closes.
        setImmediate(() => end(decision.description));
        return decision;
      },
    });
    socket.on('data', (data: Buffer) => {
      if (ending) return;
      try {
        const err = protocol.read(data);
        if (err) end(`protocol error: ${err}`);
      } catch (err) {
        if (err instanceof RtmpMessageTooLargeError)
          this.#opts.log.warn({ address, length: err.length }, 'RTMP message too large: connection closed');
        end(`protocol error: ${(err as Error).message}`);
      }
    });
    socket.on('close', () => {
      clearTimeout(publishTimer);
      authenticated();
      this.#sockets.delete(socket);
      publisher?.feed.close('the publisher disconnected');
    });
  }

  async #decide(
    app: string,
    name: string,
    address: string,
    disconnect: (reason: string) => void,
  ): Promise<{ publisher: RtmpPublisher } | Exclude<PublishDecision, { ok: true }>> {
    const target = parseRtmpTarget(app, name);
    if ('error' in target)
      return { ok: false, code: 'NetStream.Publish.Rejected', description: target.error };
    try {
      const ingest = await this.#opts.hub.channelFor(target.key, address);
      // A publisher refused while deciding is closed by the status that follows, not before it goes out.
      let decided = false;
      const publisher = ingest.publish(target.role, target.rendition, (reason) => {
        if (decided) disconnect(reason);
      });
      decided = true;
      return { publisher };
    } catch (err) {
      if (!(err instanceof OnairError)) throw err;
      const description =
        err.code === 'unauthorized'
          ? 'wrong stream key'
          : err.code === 'channel_not_running'
            ? 'the channel is not running: start it first'
            : err.message;
      return {
        ok: false,
        code: err.code === 'publisher_exists' ? 'NetStream.Publish.BadName' : 'NetStream.Publish.Rejected',
        description,
      };
    }
  }

  /** Stops listening and drops every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sockets) s.destroy();
    await Promise.all(
      this.#servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}
