/** Playback tokens: scope, expiry, forgery, rotation, and the secret file. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import { PlaybackTokens, type PlaybackScope } from '../../server/auth/playback-token.ts';

const HOUR = 3600_000;
const later = () => new Date(Date.now() + HOUR);

function code(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OnairError, `not an OnairError: ${String(err)}`);
    return `${err.status} ${err.code}`;
  }
  return 'ok';
}

void describe('PlaybackTokens', () => {
  const tokens = new PlaybackTokens();
  /** 'ok', or the status and code verifying `token` for `scope` fails with. */
  const verdict = (token: string | undefined, scope: PlaybackScope): string =>
    code(() => tokens.verify(token, scope));

  void test('a channel token is URL-safe and lets its bearer watch that channel only', () => {
    const t = tokens.mint({ channelId: 'ch_aaaaaaaaaaaaaa' }, later());
    assert.match(t, /^[A-Za-z0-9._-]+$/);
    assert.equal(encodeURIComponent(t), t);
    assert.equal(verdict(t, { channelId: 'ch_aaaaaaaaaaaaaa' }), 'ok');
    assert.equal(verdict(t, { channelId: 'ch_bbbbbbbbbbbbbb' }), '403 token_invalid');
    // A channel token also opens the channel's programs and assets.
    assert.equal(verdict(t, { channelId: 'ch_aaaaaaaaaaaaaa', programId: 'pg_00000000000000' }), 'ok');
  });

  void test('no token → 401 token_required; malformed → 403 token_invalid', () => {
    assert.equal(verdict(undefined, { channelId: 'ch_a' }), '401 token_required');
    assert.equal(verdict('', { channelId: 'ch_a' }), '401 token_required');
    for (const bad of ['x', 'v1.1.c.short', 'v2.99999999999.c.' + 'A'.repeat(43), '../../etc/passwd']) {
      assert.equal(verdict(bad, { channelId: 'ch_a' }), '403 token_invalid', bad);
    }
  });

  void test('an expired token → 401 token_expired; a forged expiry → 403 token_invalid', () => {
    const past = tokens.mint({ channelId: 'ch_a' }, new Date(Date.now() - 1000));
    assert.equal(verdict(past, { channelId: 'ch_a' }), '401 token_expired');
    // Moving the expiry of a valid token breaks its MAC.
    const t = tokens.mint({ channelId: 'ch_a' }, later());
    const [v, exp, scope, mac] = t.split('.');
    const stretched = [v, String(Number(exp) + 86400 * 365), scope, mac].join('.');
    assert.equal(verdict(stretched, { channelId: 'ch_a' }), '403 token_invalid');
    // A forged MAC of the right shape.
    const forged = [v, exp, scope, 'A'.repeat(43)].join('.');
    assert.equal(verdict(forged, { channelId: 'ch_a' }), '403 token_invalid');
  });

  void test('only the canonical spelling of the MAC is accepted, not the three with other unused bits', () => {
    const t = tokens.mint({ channelId: 'ch_a' }, later());
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes are 43 base64url characters: the last carries 4 bits and 2 unused ones.
    const last = alphabet.indexOf(t.at(-1)!);
    assert.equal(last & 0b11, 0, 'the minted token is canonical');
    const spellings = [0, 1, 2, 3].map((low) => t.slice(0, -1) + alphabet[(last & ~0b11) | low]);
    assert.equal(new Set(spellings).size, 4);
    for (const s of spellings) {
      // Every spelling decodes to the same MAC bytes…
      assert.deepEqual(
        Buffer.from(s.split('.')[3]!, 'base64url'),
        Buffer.from(t.split('.')[3]!, 'base64url'),
      );
      // …but only the one the server minted opens the stream.
      assert.equal(verdict(s, { channelId: 'ch_a' }), s === t ? 'ok' : '403 token_invalid', s);
    }
    // Nor does a zero-padded expiry, which names the same second.
    assert.equal(verdict(t.replace('v1.', 'v1.0'), { channelId: 'ch_a' }), '403 token_invalid');
  });

  void test('program and asset tokens open only their program or asset', () => {
    const scope = { channelId: 'ch_a', programId: 'pg_aaaaaaaaaaaaaa' };
    const p = tokens.mint(scope, later());
    assert.equal(verdict(p, scope), 'ok');
    assert.equal(verdict(p, { channelId: 'ch_a' }), '403 token_invalid');
    assert.equal(verdict(p, { channelId: 'ch_a', programId: 'pg_bbbbbbbbbbbbbb' }), '403 token_invalid');
    const a = tokens.mint({ channelId: 'ch_a', assetId: 'as_aaaaaaaaaaaaaa' }, later());
    assert.equal(verdict(a, { channelId: 'ch_a', assetId: 'as_aaaaaaaaaaaaaa' }), 'ok');
    assert.equal(verdict(a, { channelId: 'ch_b', assetId: 'as_aaaaaaaaaaaaaa' }), '403 token_invalid');
  });

  void test('the secret lives in the data dir (0600), survives a reopen, and rotating it revokes every token', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onair-token-test-'));
    try {
      const first = PlaybackTokens.open(dir);
      const file = path.join(dir, 'playback-secret');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
      const t = first.mint({ channelId: 'ch_a' }, later());
      const reopened = PlaybackTokens.open(dir);
      assert.equal(
        code(() => reopened.verify(t, { channelId: 'ch_a' })),
        'ok',
      );
      reopened.rotate();
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(
        code(() => reopened.verify(t, { channelId: 'ch_a' })),
        '403 token_invalid',
      );
      assert.equal(
        code(() => PlaybackTokens.open(dir).verify(t, { channelId: 'ch_a' })),
        '403 token_invalid',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
