/**
 * Console sign-in: the admin token is exchanged for a random session id in an
 * HttpOnly, SameSite=Strict cookie. Sessions live in SQLite (only a hash of the
 * id is kept), so signing out ends the session on the server, and sessions made
 * with another admin token (after it is rotated) are dropped at start-up and
 * never accepted.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { OnairError } from '../../lib/errors.ts';
import { parseWith } from '../../lib/validate.ts';
import { readJson, secretEquals, sendJson } from '../http/http.ts';
import type { Store } from '../store/store.ts';

export const SESSION_COOKIE = 'onair_session';
const SESSION_SECONDS = 12 * 3600;
/** Sessions kept at most; the oldest go first. */
const MAX_SESSIONS = 200;
const COOKIE_VALUE = /^s1\.[A-Za-z0-9_-]{43}$/;

const SignInSchema = z.strictObject({
  token: z.string().min(1, { error: 'enter the admin token' }).max(512),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ConsoleSessions {
  readonly #store: Store;
  readonly #adminToken: string;
  readonly #fingerprint: string;
  readonly #secure: boolean;

  constructor(store: Store, adminToken: string, opts: { secureCookies: boolean }) {
    this.#store = store;
    this.#adminToken = adminToken;
    this.#fingerprint = sha256(`onair admin token v1\n${adminToken}`);
    this.#secure = opts.secureCookies;
    // Housekeeping only: signing in prunes again.
    this.#store.sessions.prune(this.#fingerprint, nowSeconds()).catch(() => undefined);
  }

  #idHash(req: IncomingMessage): string | undefined {
    const value = readCookie(req, SESSION_COOKIE);
    return value && COOKIE_VALUE.test(value) ? sha256(value) : undefined;
  }

  async isSignedIn(req: IncomingMessage): Promise<boolean> {
    const hash = this.#idHash(req);
    if (!hash) return false;
    const expires = await this.#store.sessions.expiry(hash, this.#fingerprint);
    return expires !== undefined && expires > nowSeconds();
  }

  /** True when the request carries a session cookie at all (valid or not). */
  hasCookie(req: IncomingMessage): boolean {
    return readCookie(req, SESSION_COOKIE) !== undefined;
  }

  #cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.#secure ? '; Secure' : ''}`;
  }

  /** POST (sign in) / GET (am I signed in) / DELETE (sign out) /auth/session. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (!(await this.isSignedIn(req))) throw new OnairError('unauthorized', 'not signed in');
      sendJson(res, 200, { signedIn: true });
      return;
    }
    if (method === 'DELETE') {
      const hash = this.#idHash(req);
      if (hash) await this.#store.sessions.delete(hash);
      sendJson(res, 200, { signedIn: false }, { 'Set-Cookie': this.#cookie('', 0) });
      return;
    }
    if (method !== 'POST')
      throw new OnairError('method_not_allowed', 'use POST to sign in, DELETE to sign out');
    const { token } = parseWith(SignInSchema, await readJson(req));
    if (!secretEquals(token.trim(), this.#adminToken))
      throw new OnairError('unauthorized', 'that admin token is not right');
    const value = `s1.${randomBytes(32).toString('base64url')}`;
    const expires = nowSeconds() + SESSION_SECONDS;
    await this.#store.sessions.create(
      {
        idHash: sha256(value),
        adminFingerprint: this.#fingerprint,
        createdAt: new Date().toISOString(),
        expiresAt: expires,
      },
      MAX_SESSIONS,
    );
    sendJson(
      res,
      200,
      { signedIn: true, expiresAt: new Date(expires * 1000).toISOString() },
      { 'Set-Cookie': this.#cookie(value, SESSION_SECONDS) },
    );
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
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
