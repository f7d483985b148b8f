/**
 * The web UI behind the HTTP front: console pages need a session (the public watch and embed pages
 * do not), every page carries its security headers and is never cached, and a server whose UI is
 * not built says so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { Logger } from '../log.ts';
import { sendError, sendText } from './http.ts';
import { isPagePath, pinCacheControl, uiHeaders } from './security-headers.ts';

/** What serves the pages (Next.js, server/ui/next-handler.ts). */
export interface PageHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface UiMountOptions {
  dev: boolean;
  publicUrl: string | undefined;
  /** Whether this server serves a UI at all. */
  enabled: boolean;
  isSignedIn(req: IncomingMessage): Promise<boolean>;
  log: Logger;
}

export class UiMount {
  readonly #opts: UiMountOptions;
  readonly #origins: string[];
  #pages: PageHandler | undefined;

  constructor(opts: UiMountOptions) {
    this.#opts = opts;
    this.#origins = opts.publicUrl ? [new URL(opts.publicUrl).origin] : [];
  }

  /** The page handler, once it has started (the API never waits for it). */
  attach(pages: PageHandler | undefined): void {
    this.#pages = pages;
  }

  /** Sends a console request without a session to sign in; true when it did. */
  async redirectToSignIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    const console = path === '/console' || path.startsWith('/console/');
    if (!console || path === '/console/sign-in' || (await this.#opts.isSignedIn(req))) return false;
    const next = encodeURIComponent(path + url.search);
    res.writeHead(303, { Location: `/console/sign-in?next=${next}`, 'Cache-Control': 'no-store' }).end();
    return true;
  }

  async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const pages = this.#pages;
    if (pages) {
      for (const [name, value] of Object.entries(
        uiHeaders(path, { dev: this.#opts.dev, extraOrigins: this.#origins }),
      ))
        res.setHeader(name, value);
      // Pages are never kept by a cache: the console's show private data, and every page changes with a release.
      if (isPagePath(path)) pinCacheControl(res, 'no-store');
      await pages.handle(req, res);
      return;
    }
    if (!this.#opts.enabled) {
      sendError(res, new OnairError('not_found', `no such endpoint: ${req.method} ${path}`), this.#opts.log);
      return;
    }
    sendText(res, 503, 'The onair web UI is not built. Run `npm run build`, then restart.\n', undefined, {
      'Cache-Control': 'no-store',
    });
  }
}
