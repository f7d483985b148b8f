/** Mounts the Next.js UI (pages in app/) behind onair's own HTTP server. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import next from 'next';
import type { Logger } from '../log.ts';

export interface UiHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

export async function createUiHandler(opts: {
  dir: string;
  dev: boolean;
  log: Logger;
}): Promise<UiHandler | undefined> {
  if (!opts.dev && !existsSync(path.join(opts.dir, '.next', 'BUILD_ID'))) {
    opts.log.warn('the web UI is not built (run `npm run build`); serving the API and media only');
    return undefined;
  }
  const app = next({ dev: opts.dev, dir: opts.dir, quiet: !opts.dev });
  await app.prepare();
  const handle = app.getRequestHandler();
  return {
    handle: (req, res) => handle(req, res),
    close: () => app.close(),
  };
}
