/** A media endpoint family (/whip, /live, /time, …): what the HTTP server mounts by path prefix. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface MediaMount {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}
