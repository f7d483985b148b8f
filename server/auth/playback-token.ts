/**
 * Playback tokens: who may watch a channel whose playback is `token`.
 *
 * A token is `v1.<expires>.<scope>.<mac>`: the expiry in Unix seconds, the scope
 * (`c` for the whole channel — live, its programs and its assets — or one
 * program `pg_…` or asset `as_…` of it), and an HMAC-SHA256 over the channel
 * id, the scope and the expiry with the server's playback secret
 * (`$ONAIR_DATA_DIR/playback-secret`, 0600). Checking one is a hash and a
 * constant-time compare: no database read, cheap enough for every segment.
 * Rotating the secret revokes every token at once.
 *
 * The token is URL-safe ([A-Za-z0-9._-]) so it can travel in a path segment:
 * `/live/<channel>/t/<token>/master.m3u8`, where every relative URI of the
 * playlists and MPD resolves under it and players need no change.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';

/** What a request asks to watch. */
export interface PlaybackScope {
  channelId: string;
  programId?: string;
  assetId?: string;
}

/** What a valid token grants: its scope (`c`, or the program or asset id) until `expiresAt` (ms). */
export interface PlaybackGrant {
  scope: string;
  expiresAt: number;
}

export type VerifyPlayback = (token: string | undefined, scope: PlaybackScope) => PlaybackGrant;

const TOKEN = /^v1\.(0|[1-9]\d{0,11})\.(c|pg_[0-9a-z]{14}|as_[0-9a-z]{14})\.([A-Za-z0-9_-]{43})$/;
const SECRET_FILE = 'playback-secret';

export class PlaybackTokens {
  readonly #file: string | undefined;
  #key: Buffer;
  readonly #rotated = new Set<() => void>();

  /** A secret kept in memory only (tests); `open` keeps it in the data dir. */
  constructor(key: Buffer = randomBytes(32), file?: string) {
    this.#key = key;
    this.#file = file;
  }

  /** Reads the secret from the data dir, or makes one on first use. */
  static open(dataDir: string): PlaybackTokens {
    const file = path.join(dataDir, SECRET_FILE);
    if (existsSync(file)) {
      const hex = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{64}$/.test(hex)) return new PlaybackTokens(Buffer.from(hex, 'hex'), file);
    }
    const tokens = new PlaybackTokens(randomBytes(32), file);
    tokens.#save();
    return tokens;
  }

  #save(): void {
    if (!this.#file) return;
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${this.#key.toString('hex')}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.#file);
  }

  /** A new secret: every token minted before stops working. */
  rotate(): void {
    this.#key = randomBytes(32);
    this.#save();
    for (const listener of [...this.#rotated]) listener();
  }

  /** Calls `listener` after every rotation (sessions admitted with a token check it again); returns the unsubscribe. */
  onRotate(listener: () => void): () => void {
    this.#rotated.add(listener);
    return () => this.#rotated.delete(listener);
  }

  #mac(channelId: string, scope: string, expires: number): Buffer {
    return createHmac('sha256', this.#key)
      .update(`onair-playback v1\n${channelId}\n${scope}\n${expires}`)
      .digest();
  }

  /** A token for the channel (or one program or asset of it) until `expiresAt`. */
  mint(scope: PlaybackScope, expiresAt: Date): string {
    const expires = Math.floor(expiresAt.getTime() / 1000);
    const s = scope.programId ?? scope.assetId ?? 'c';
    return `v1.${expires}.${s}.${this.#mac(scope.channelId, s, expires).toString('base64url')}`;
  }

  /**
   * Throws unless `token` lets its bearer watch `scope`: `token_required` (401)
   * when there is none, `token_invalid` (403) when it is malformed, forged, or
   * for another channel, program or asset, `token_expired` (401) when it was
   * valid and has expired.
   */
  verify(token: string | undefined, scope: PlaybackScope, now = Date.now()): PlaybackGrant {
    if (!token) throw new OnairError('token_required', 'this stream needs a playback token');
    const m = TOKEN.exec(token);
    if (!m) throw new OnairError('token_invalid', 'the playback token is malformed');
    const expires = Number(m[1]);
    const s = m[2]!;
    if (s !== 'c' && s !== scope.programId && s !== scope.assetId) {
      throw new OnairError('token_invalid', 'the playback token is for another program or asset');
    }
    const given = Buffer.from(m[3]!, 'base64url');
    // base64url decoding ignores the unused low bits of the last character, so
    // four spellings decode alike: only the canonical one (as minted) passes.
    if (given.toString('base64url') !== m[3]) {
      throw new OnairError('token_invalid', 'the playback token is not valid for this stream');
    }
    const expected = this.#mac(scope.channelId, s, expires);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new OnairError('token_invalid', 'the playback token is not valid for this stream');
    }
    if (expires * 1000 <= now) throw new OnairError('token_expired', 'the playback token has expired');
    return { scope: s, expiresAt: expires * 1000 };
  }

  /** `verify` as a function to hand to the origin (and other mounts). */
  get verifier(): VerifyPlayback {
    return (token, scope) => this.verify(token, scope);
  }
}
