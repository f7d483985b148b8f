/**
 * The onair server: one HTTP server on one port for the REST API, media
 * endpoints and the Next.js UI. `createOnair` wires the parts; `close()` ends
 * everything it started, in order, once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnairError } from '../lib/errors.ts';
import type { ChannelEventType } from '../lib/events.ts';
import { buildApiRouter } from './api/v1.ts';
import type { RouteContext } from './api/router.ts';
import { ConsoleSessions } from './api/session.ts';
import { PlaybackTokens, type VerifyPlayback } from './auth/playback-token.ts';
import type { Config } from './config.ts';
import { resolveAdminToken } from './core/admin-token.ts';
import { ControlPlane } from './core/control-plane.ts';
import { resolveClientAddress, TrustedProxies } from './http/client-address.ts';
import { AuthGate } from './http/auth.ts';
import { assertSameOrigin } from './http/csrf.ts';
import { serveMetrics } from './http/metrics-endpoint.ts';
import { UiMount } from './http/ui-mount.ts';
import { publicBaseUrl, sendError, sendJson, setClientAddress } from './http/http.ts';
import type { MountContext } from './http/mount.ts';
import { baseHeaders } from './http/security-headers.ts';
import type { MediaRuntime } from './live/live-runtime.ts';
import { NoMediaRuntime } from './live/no-media-runtime.ts';
import type { Logger } from './log.ts';
import { gauge, processSamples, withoutChannels, type Sample } from './observability/metrics.ts';
import { openSqliteStore, type Store } from './store/store.ts';
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

export async function createOnair(opts: OnairOptions): Promise<Onair> {
  const { config, log } = opts;
  const startedAt = Date.now();
  const store = openSqliteStore(config.dataDir);
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
  const logFailure = (err: unknown) => log.error({ err }, 'the store refused a write');
  const runtime: MediaRuntime = opts.runtime
    ? opts.runtime({
        store,
        config,
        log,
        event: (id, type, message) => void late.control?.recordEvent(id, type, message).catch(logFailure),
        assetGrew: (id, bytes) => void late.control?.assets.grew(id, bytes).catch(logFailure),
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
  // WebRTC viewers hold their session past the token check: a rotation checks them again.
  playbackTokens.onRotate(() => runtime.playbackSecretRotated());

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
  const gate = new AuthGate(config.authFailureLimit, log);
  // A stream key that was presented and refused is a failed authentication.
  const mountContext: MountContext = { authFailed: (address) => gate.failed(address) };
  const isSignedIn = (req: IncomingMessage) => sessions.isSignedIn(req);
  const ui = new UiMount({
    dev: config.dev,
    publicUrl: config.publicUrl,
    enabled: config.ui,
    isSignedIn,
    log,
  });

  const edgeHeaders = baseHeaders(config.publicUrl);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = resolveClientAddress(req, trustedProxies);
    setClientAddress(req, address);
    for (const [name, value] of Object.entries(edgeHeaders)) res.setHeader(name, value);
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
      await serveMetrics(req, res, { token: config.metricsToken, gate, samples: metricSamples, log });
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      try {
        if (gate.isLimited(address)) return gate.refuse(res, address);
        await gate.checkAdmin(req, address, {
          adminToken: admin.token,
          isSignedIn,
          publicUrl: config.publicUrl,
        });
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
        if (signingIn && gate.isLimited(address)) return gate.refuse(res, address);
        if (!signingIn && sessions.hasCookie(req)) assertSameOrigin(req, config.publicUrl);
        await sessions.handle(req, res);
      } catch (err) {
        if (signingIn && err instanceof OnairError && err.code === 'unauthorized') gate.failed(address);
        sendError(res, err, log);
      }
      return;
    }
    // Every console page needs a session; the public watch and embed pages do not.
    if (await ui.redirectToSignIn(req, res, url)) return;
    for (const mount of mounts) {
      if (path === mount.prefix || path.startsWith(`${mount.prefix}/`)) {
        const whip = mount.prefix === '/whip' && req.method !== 'OPTIONS';
        if (whip && gate.isLimited(address)) {
          return gate.refuse(res, address, { 'Access-Control-Allow-Origin': '*' });
        }
        try {
          await mount.handle(req, res, url, mountContext);
        } catch (err) {
          sendError(res, err, log);
        }
        return;
      }
    }
    await ui.serve(req, res, path);
  };

  /** What /metrics shows; when it is public, nothing names a channel whose viewers are restricted. */
  const metricSamples = async (isPublic: boolean): Promise<Sample[]> => {
    const counts = await cp.channels.counts();
    const samples: Sample[] = [
      gauge(
        'onair_channels',
        'Channels by state.',
        Object.entries(counts.channelsByState).map(([state, value]) => ({ labels: { state }, value })),
      ),
      gauge('onair_programs_running', 'Programs recording now.', [{ value: counts.programsRunning }]),
      gauge('onair_webhook_deliveries_pending', 'Webhook deliveries waiting or in flight.', [
        { value: webhooks.pending },
      ]),
      ...runtime.metrics(),
      ...processSamples(startedAt),
    ];
    return isPublic ? withoutChannels(samples, await cp.channels.restrictedIds()) : samples;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, log));
  });
  server.headersTimeout = 30_000;
  // Idle keep-alive connections stay open longer than a proxy's or client's pool keeps them (nginx
  // upstream keepalive_timeout is 60 s): a server that closes first races the client's next request,
  // which then fails with ECONNRESET.
  server.keepAliveTimeout = 65_000;
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
  let pages: UiHandler | undefined;
  if (opts.ui) {
    try {
      pages = await opts.ui(log);
      ui.attach(pages);
    } catch (err) {
      log.error({ err }, 'the web UI failed to start; serving the API and media only');
    }
  }
  await cp.restore();
  await webhooks.resume();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeAllConnections();
      await cp.shutdown();
      await pages?.close().catch(() => undefined);
      // Events of the shutdown itself are queued on the next turn; let them reach the store first.
      await new Promise((resolve) => setImmediate(resolve));
      await webhooks.settled();
      webhooks.close();
      await store.close();
    })();
    return closing;
  };
  return { server, control: cp, webhooks, playbackTokens, adminToken: admin.token, url, close };
}
