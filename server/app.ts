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
import type { Config } from './config.ts';
import { resolveAdminToken } from './core/admin-token.ts';
import { ControlPlane } from './core/control-plane.ts';
import { IdleRuntime } from './core/runtime.ts';
import { bearerToken, publicBaseUrl, secretEquals, sendError, sendJson, sendText } from './http/http.ts';
import type { MediaMount } from './http/mount.ts';
import type { MediaRuntime } from './live/live-runtime.ts';
import type { Logger } from './log.ts';
import { processSamples, renderPrometheus, type Sample } from './observability/metrics.ts';
import { Store } from './store/store.ts';
import type { UiHandler } from './ui/next-handler.ts';

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
  }) => MediaRuntime;
  ui?: (log: Logger) => Promise<UiHandler | undefined>;
}

export interface Onair {
  server: Server;
  control: ControlPlane;
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

  // The runtime reports events through the control plane, which needs the runtime: tie the knot late.
  const late: { control?: ControlPlane } = {};
  const runtime: MediaRuntime = opts.runtime
    ? opts.runtime({
        store,
        config,
        log,
        event: (id, type, message) => late.control?.recordEvent(id, type, message),
        assetGrew: (id, bytes) => late.control?.assetGrew(id, bytes),
      })
    : new NoMediaRuntime();
  const cp = new ControlPlane({ store, runtime, log });
  late.control = cp;

  const api = buildApiRouter({
    control: cp,
    baseUrl: (ctx: RouteContext) => publicBaseUrl(config, ctx.req),
    stats: (id) => runtime.stats(id),
  });
  const mounts = runtime.mounts();
  const sessions = new ConsoleSessions(admin.token, {
    secureCookies: config.publicUrl?.startsWith('https:') ?? false,
  });
  let ui: UiHandler | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/metrics') {
      const counts = cp.counts();
      const samples: Sample[] = [
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
        ...runtime.metrics(),
        ...processSamples(startedAt),
      ];
      sendText(res, 200, renderPrometheus(samples), 'text/plain; version=0.0.4; charset=utf-8');
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      try {
        const token = bearerToken(req);
        const authorized = token ? secretEquals(token, admin.token) : sessions.isSignedIn(req);
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
      try {
        await sessions.handle(req, res);
      } catch (err) {
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
        try {
          await mount.handle(req, res, url);
        } catch (err) {
          sendError(res, err, log);
        }
        return;
      }
    }
    if (ui) {
      await ui.handle(req, res);
      return;
    }
    if (!config.ui) {
      sendError(res, new OnairError('not_found', `no such endpoint: ${req.method} ${path}`), log);
      return;
    }
    sendText(res, 503, 'The onair web UI is not built. Run `npm run build`, then restart.\n');
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

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeAllConnections();
      await cp.shutdown();
      await ui?.close().catch(() => undefined);
      store.close();
    })();
    return closing;
  };
  return { server, control: cp, adminToken: admin.token, url, close };
}
