/**
 * Who may use the admin API, the metrics and the WHIP session URLs, and how guessing stops: every
 * refused credential (a wrong admin token, stream key or metrics token, a failed console sign-in)
 * counts against the client's address; past the limit the client waits a minute.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { Logger } from '../log.ts';
import { assertSameOrigin } from './csrf.ts';
import { bearerToken, secretEquals, sendError } from './http.ts';
import { RateLimiter } from './rate-limit.ts';

export interface AdminCheck {
  adminToken: string;
  /** A console session cookie is valid. */
  isSignedIn(req: IncomingMessage): Promise<boolean>;
  publicUrl: string | undefined;
}

export class AuthGate {
  readonly #failures: RateLimiter;
  readonly #log: Logger;

  constructor(failuresPerMinute: number, log: Logger) {
    this.#failures = new RateLimiter(failuresPerMinute, 60_000);
    this.#log = log;
  }

  isLimited(address: string): boolean {
    return this.#failures.isLimited(address);
  }

  /** A credential was presented and refused. */
  failed(address: string): void {
    this.#failures.hit(address);
  }

  /** Answers 429 with when to come back. */
  refuse(res: ServerResponse, address: string, extra: Record<string, string> = {}): void {
    sendError(
      res,
      new OnairError('rate_limited', 'too many failed authentications; wait a minute'),
      this.#log,
      { 'Retry-After': String(this.#failures.retryAfterSeconds(address)), ...extra },
    );
  }

  /** The admin token as a bearer token, or a console session (same origin only); throws `unauthorized`. */
  async checkAdmin(req: IncomingMessage, address: string, check: AdminCheck): Promise<void> {
    const token = bearerToken(req);
    let authorized: boolean;
    if (token) {
      authorized = secretEquals(token, check.adminToken);
      if (!authorized) this.failed(address);
    } else {
      authorized = await check.isSignedIn(req);
      // The cookie is sent by the browser on its own: only this site's pages may use it to change things.
      if (authorized) assertSameOrigin(req, check.publicUrl);
    }
    if (!authorized) {
      throw new OnairError('unauthorized', 'missing or wrong admin token (Authorization: Bearer <token>)');
    }
  }

  /** A bearer token equal to `expected`; a wrong one counts as a failure, a missing one does not. */
  checkToken(req: IncomingMessage, address: string, expected: string, what: string): void {
    const token = bearerToken(req);
    if (token && secretEquals(token, expected)) return;
    if (token) this.failed(address);
    throw new OnairError('unauthorized', `missing or wrong ${what}`);
  }
}
