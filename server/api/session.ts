/**
 * Console sign-in: the admin token is exchanged for a signed, HttpOnly,
 * SameSite=Strict cookie. Nothing is stored server-side; rotating the admin
 * token invalidates every session.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { OnairError } from '../../lib/errors.ts';
import { parseWith } from '../../lib/validate.ts';
import { clientAddress, readJson, secretEquals, sendJson } from '../http/http.ts';
import { RateLimiter } from '../http/rate-limit.ts';

export const SESSION_COOKIE = 'onair_session';
const SESSION_SECONDS = 12 * 3600;

const SignInSchema = z.strictObject({
  token: z.string().min(1, { error: 'enter the admin token' }).max(512),
});

export class ConsoleSessions {
  readonly #key: Buffer;
  readonly #adminToken: string;
  readonly #secure: boolean;
  readonly #limiter = new RateLimiter(10, 60_000);

  constructor(adminToken: string, opts: { secureCookies: boolean }) {
    this.#adminToken = adminToken;
    this.#key = createHmac('sha256', adminToken).update('onair console session v1').digest();
    this.#secure = opts.secureCookies;
  }

  #sign(expires: number): string {
    const mac = createHmac('sha256', this.#key).update(`v1.${expires}`).digest('base64url');
    return `v1.${expires}.${mac}`;
  }

  isSignedIn(req: IncomingMessage): boolean {
    const value = readCookie(req, SESSION_COOKIE);
    if (!value) return false;
    const m = /^v1\.(\d{1,12})\.([\w-]{43})$/.exec(value);
    if (!m) return false;
    const expires = Number(m[1]);
    if (expires * 1000 < Date.now()) return false;
    return secretEquals(this.#sign(expires), value);
  }

  #cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.#secure ? '; Secure' : ''}`;
  }

  /** POST / GET / DELETE /auth/session. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (!this.isSignedIn(req)) throw new OnairError('unauthorized', 'not signed in');
      sendJson(res, 200, { signedIn: true });
      return;
    }
    if (method === 'DELETE') {
      sendJson(res, 200, { signedIn: false }, { 'Set-Cookie': this.#cookie('', 0) });
      return;
    }
    if (method !== 'POST')
      throw new OnairError('method_not_allowed', 'use POST to sign in, DELETE to sign out');
    if (!this.#limiter.take(clientAddress(req)))
      throw new OnairError('rate_limited', 'too many sign-in attempts; wait a minute');
    const { token } = parseWith(SignInSchema, await readJson(req));
    if (!secretEquals(token.trim(), this.#adminToken))
      throw new OnairError('unauthorized', 'that admin token is not right');
    const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
    sendJson(
      res,
      200,
      { signedIn: true, expiresAt: new Date(expires * 1000).toISOString() },
      { 'Set-Cookie': this.#cookie(this.#sign(expires), SESSION_SECONDS) },
    );
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
