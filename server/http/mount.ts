/** A media endpoint family (/whip, /live, /time, …): what the HTTP server mounts by path prefix. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the HTTP front offers a mount beyond the request. */
export interface MountContext {
  /** A credential was presented and refused: counts towards the client's failed authentications. */
  authFailed(address: string): void;
}

export interface MediaMount {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx?: MountContext): Promise<void>;
}
