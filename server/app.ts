/**
 * The onair server: one HTTP server on one port for the REST API, media
 * endpoints and the Next.js UI. `createOnair` wires the parts; `close()` ends
 * everything it started, in order, once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnairError } from '../lib/errors.ts';
import type { ChannelEventType } from '../lib/events.ts';
import { OFFLINE_STATS, type ChannelLiveStats } from '../lib/stats.ts';
import { buildApiRouter } from './api/v1.ts';
import type { RouteContext } from './api/router.ts';
import { ConsoleSessions } from './api/session.ts';
import { PlaybackTokens, type VerifyPlayback } from './auth/playback-token.ts';
import type { Config } from './config.ts';
import { resolveAdminToken } from './core/admin-token.ts';
import { ControlPlane } from './core/control-plane.ts';
import { IdleRuntime } from './core/runtime.ts';
import { resolveClientAddress, TrustedProxies } from './http/client-address.ts';
import { assertSameOrigin } from './http/csrf.ts';
import {
  bearerToken,
  publicBaseUrl,
  secretEquals,
  sendError,
  sendJson,
  sendText,
  setClientAddress,
} from './http/http.ts';
import type { MediaMount, MountContext } from './http/mount.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { BASE_HEADERS, isPagePath, pinCacheControl, uiHeaders } from './http/security-headers.ts';
import type { MediaRuntime } from './live/live-runtime.ts';
import type { Logger } from './log.ts';
import { processSamples, renderPrometheus, type Sample } from './observability/metrics.ts';
import { Store } from './store/store.ts';
import type { UiHandler } from './ui/next-handler.ts';
import { Webhooks } from './webhooks/webhooks.ts';

export interface OnairOptions {
  config: Config;
  log: Logger;
  /** Builds the media runtime; defaults to a runtime with no media. */
  runtime?: (deps: {
    store: Store;
    config: Config;
    log: Logger;
    event: (channelId: string, type: ChannelEventType, message: string) => void;
    assetGrew: (assetId: string, bytes: number) => void;
    verifyPlayback: VerifyPlayback;
  }) => MediaRuntime;
  ui?: (log: Logger) => Promise<UiHandler | undefined>;
}

export interface Onair {
  server: Server;
  control: ControlPlane;
  webhooks: Webhooks;
  playbackTokens: PlaybackTokens;
  adminToken: string;
  url: string;
  close(): Promise<void>;
}

class NoMediaRuntime extends IdleRuntime implements MediaRuntime {
  mounts(): MediaMount[] {
    return [];
  }
  stats(): ChannelLiveStats {
    return OFFLINE_STATS;
  }
  metrics(): Sample[] {
    return [];
  }
  switchInput(): never {
    throw new OnairError('channel_not_running', 'this server runs no media');
  }
  slateImage(): string {
    return '';
  }
  setSlateImage(): Promise<void> {
    return Promise.reject(new OnairError('unavailable', 'this server runs no media'));
  }
  deleteSlateImage(): Promise<void> {
    return Promise.resolve();
  }
  health(): Record<string, unknown> {
    return {};
  }
}

export async function createOnair(opts: OnairOptions): Promise<Onair> {
  const { config, log } = opts;
  const startedAt = Date.now();
  const store = new Store(config.dataDir);
  const admin = resolveAdminToken(config.adminToken, config.dataDir);
  if (admin.generated) {
    // Printed once, on the first start, for the person running the server.
    process.stderr.write(`\n  onair admin token (saved in ${admin.file}):\n\n    ${admin.token}\n\n`);
  }

  const playbackTokens = PlaybackTokens.open(config.dataDir);
  const webhooks = new Webhooks({
    store,
    log: log.child({ component: 'webhooks' }),
    allowPrivate: config.webhookAllowPrivate,
    maxAttempts: config.webhookMaxAttempts,
    backoffMs: config.webhookBackoffMs,
  });

  // The runtime reports events through the control plane, which needs the runtime: tie the knot late.
  const late: { control?: ControlPlane } = {};
  const runtime: MediaRuntime = opts.runtime
    ? opts.runtime({
        store,
        config,
        log,
        event: (id, type, message) => late.control?.recordEvent(id, type, message),
        assetGrew: (id, bytes) => late.control?.assetGrew(id, bytes),
        verifyPlayback: playbackTokens.verifier,
      })
    : new NoMediaRuntime();
  const cp = new ControlPlane({
    store,
    runtime,
    log,
    limits: { maxChannels: config.maxChannels, maxRunningChannels: config.maxRunningChannels },
    ...(opts.runtime
      ? {
          ingest: {
            ...(config.rtmpPort > 0 ? { rtmp: config.rtmpPort } : {}),
            ...(config.rtmps ? { rtmps: config.rtmps.port } : {}),
            ...(config.srtPortRange ? { srtRange: config.srtPortRange } : {}),
          },
        }
      : {}),
    // Off the caller's stack: whoever reports an event (the media side too) never waits for webhooks.
    notify: (event) => setImmediate(() => webhooks.publish(event)),
  });
  late.control = cp;

  const api = buildApiRouter({
    control: cp,
    baseUrl: (ctx: RouteContext) => publicBaseUrl(config, ctx.req),
    stats: (id) => runtime.stats(id),
    playbackTokens,
    webhooks,
    ingest: runtime,
  });
  const mounts = runtime.mounts();
  const sessions = new ConsoleSessions(store, admin.token, {
    secureCookies: config.publicUrl?.startsWith('https:') ?? false,
  });
  const trustedProxies = new TrustedProxies(config.trustProxy);
  // Failed authentications per client (wrong admin token, stream key or metrics token): guessing stops here.
  const authFailures = new RateLimiter(config.authFailureLimit, 60_000);
  const rateLimited = (res: ServerResponse, address: string, extra: Record<string, string> = {}) =>
    sendError(res, new OnairError('rate_limited', 'too many failed authentications; wait a minute'), log, {
      'Retry-After': String(authFailures.retryAfterSeconds(address)),
      ...extra,
    });
  // A stream key that was presented and refused is a failed authentication.
  const mountContext: MountContext = { authFailed: (address) => authFailures.hit(address) };
  const uiOrigins = config.publicUrl ? [new URL(config.publicUrl).origin] : [];
  let ui: UiHandler | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = resolveClientAddress(req, trustedProxies);
    setClientAddress(req, address);
    for (const [name, value] of Object.entries(BASE_HEADERS)) res.setHeader(name, value);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://onair.invalid');
      // Malformed percent-encoding is a bad request everywhere, before any other work.
      decodeURIComponent(url.pathname);
    } catch {
      sendError(res, new OnairError('bad_request', 'the request path is not valid percent-encoding'), log);
      return;
    }
    const path = url.pathname;
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok', details: runtime.health() });
      return;
    }
    if (path === '/metrics') {
      res.setHeader('Cache-Control', 'no-store');
      if (config.metricsToken) {
        if (authFailures.isLimited(address)) return rateLimited(res, address);
        const token = bearerToken(req);
        if (!token || !secretEquals(token, config.metricsToken)) {
          if (token) authFailures.hit(address);
          sendError(res, new OnairError('unauthorized', 'missing or wrong metrics token'), log);
          return;
        }
      }
      sendText(
        res,
        200,
        renderPrometheus(metricSamples(config.metricsToken === undefined)),
        'text/plain; version=0.0.4; charset=utf-8',
      );
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      try {
        if (authFailures.isLimited(address)) return rateLimited(res, address);
        const token = bearerToken(req);
        let authorized: boolean;
        if (token) {
          authorized = secretEquals(token, admin.token);
          if (!authorized) authFailures.hit(address);
        } else {
          authorized = sessions.isSignedIn(req);
          // The cookie is sent by the browser on its own: only this site's pages may use it to change things.
          if (authorized) assertSameOrigin(req, config.publicUrl);
        }
        if (!authorized) {
          throw new OnairError(
            'unauthorized',
            'missing or wrong admin token (Authorization: Bearer <token>)',
          );
        }
        const m = api.match(req.method ?? 'GET', path);
        if (m.kind === 'none') throw new OnairError('not_found', `no such endpoint: ${req.method} ${path}`);
        if (m.kind === 'method') {
          sendError(res, new OnairError('method_not_allowed', `${req.method} is not allowed here`), log, {
            Allow: m.allow.join(', '),
          });
          return;
        }
        await m.handler({ req, res, params: m.params, url });
      } catch (err) {
        sendError(res, err, log);
      }
      return;
    }
    if (path === '/auth/session') {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      const signingIn = req.method === 'POST';
      try {
        if (signingIn && authFailures.isLimited(address)) return rateLimited(res, address);
        if (!signingIn && sessions.hasCookie(req)) assertSameOrigin(req, config.publicUrl);
        await sessions.handle(req, res);
      } catch (err) {
        if (signingIn && err instanceof OnairError && err.code === 'unauthorized') authFailures.hit(address);
        sendError(res, err, log);
      }
      return;
    }
    // Every console page needs a session; the public watch and embed pages do not.
    if (
      (path === '/console' || path.startsWith('/console/')) &&
      path !== '/console/sign-in' &&
      !sessions.isSignedIn(req)
    ) {
      const next = encodeURIComponent(path + url.search);
      res.writeHead(303, { Location: `/console/sign-in?next=${next}`, 'Cache-Control': 'no-store' }).end();
      return;
    }
    for (const mount of mounts) {
      if (path === mount.prefix || path.startsWith(`${mount.prefix}/`)) {
        const whip = mount.prefix === '/whip' && req.method !== 'OPTIONS';
        if (whip && authFailures.isLimited(address)) {
          return rateLimited(res, address, { 'Access-Control-Allow-Origin': '*' });
        }
        try {
          await mount.handle(req, res, url, mountContext);
        } catch (err) {
          sendError(res, err, log);
        }
        return;
      }
    }
    if (ui) {
      for (const [name, value] of Object.entries(
        uiHeaders(path, { dev: config.dev, extraOrigins: uiOrigins }),
      ))
        res.setHeader(name, value);
      // Pages are never kept by a cache: the console's show private data, and every page changes with a release.
      if (isPagePath(path)) pinCacheControl(res, 'no-store');
      await ui.handle(req, res);
      return;
    }
    if (!config.ui) {
      sendError(res, new OnairError('not_found', `no such endpoint: ${req.method} ${path}`), log);
      return;
    }
    sendText(res, 503, 'The onair web UI is not built. Run `npm run build`, then restart.\n', undefined, {
      'Cache-Control': 'no-store',
    });
  };

  /** What /metrics shows; when it is public, nothing names a channel whose viewers are restricted. */
  const metricSamples = (isPublic: boolean): Sample[] => {
    const counts = cp.counts();
    let samples: Sample[] = [
      {
        name: 'onair_channels',
        help: 'Channels by state.',
        type: 'gauge',
        values: Object.entries(counts.channelsByState).map(([state, value]) => ({
          labels: { state },
          value,
        })),
      },
      {
        name: 'onair_programs_running',
        help: 'Programs recording now.',
        type: 'gauge',
        values: [{ value: counts.programsRunning }],
      },
      {
        name: 'onair_webhook_deliveries_pending',
        help: 'Webhook deliveries waiting or in flight.',
        type: 'gauge',
        values: [{ value: webhooks.pending }],
      },
      ...runtime.metrics(),
      ...processSamples(startedAt),
    ];
    if (isPublic) {
      const restricted = cp.restrictedChannelIds();
      samples = samples.map((sample) => ({
        ...sample,
        values: sample.values.filter((v) => !(v.labels?.channel && restricted.has(v.labels.channel))),
      }));
    }
    return samples;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, log));
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${addr.port}`;

  // The UI comes up after the API so API clients never wait for Next.js.
  if (opts.ui) {
    try {
      ui = await opts.ui(log);
    } catch (err) {
      log.error({ err }, 'the web UI failed to start; serving the API and media only');
    }
  }
  await cp.restore();
  webhooks.resume();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeAllConnections();
      await cp.shutdown();
      await ui?.close().catch(() => undefined);
      // Events of the shutdown itself are queued on the next turn; let them reach the store first.
      await new Promise((resolve) => setImmediate(resolve));
      webhooks.close();
      store.close();
    })();
    return closing;
  };
  return { server, control: cp, webhooks, playbackTokens, adminToken: admin.token, url, close };
}
