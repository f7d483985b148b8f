/**
 * WHEP viewers keep only the access they were admitted with, against the real
 * server process with real media (a WHIP publisher, werift viewers in a child
 * process): narrowing the channel's preview allow-list, switching its playback
 * to `token`, a viewer's token expiring and rotating the playback secret each
 * end the sessions that lose access, and only those.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelStats } from '../../lib/api-client.ts';
import type { Channel, PlaybackToken } from '../../lib/schemas.ts';
import { PlaybackTokens } from '../../server/auth/playback-token.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { startLiveChannel } from '../helpers/live-channel.ts';
import { waitFor } from '../helpers/procs.ts';
import { watchWhepProcess, type ViewerGroup } from '../helpers/viewer-process.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

let s: TestServer;
let ch: Channel;
let publisher: WhipPublisher | undefined;
const groups: ViewerGroup[] = [];

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHEP_RATE_LIMIT: '1000' } });
  ({ channel: ch, publisher } = await startLiveChannel(s, { name: 'access', mode: 'passthrough' }));
});

after(async () => {
  for (const g of groups) await g.vanish().catch(() => undefined);
  await publisher?.stop().catch(() => undefined);
  await s?.dispose();
});

async function viewerCount(): Promise<number> {
  const res = await s.api<ChannelStats>('GET', `/api/v1/channels/${ch.id}/stats`);
  assert.equal(res.status, 200, res.text);
  return res.json.viewers?.count ?? 0;
}

/** Waits until the channel has `n` WHEP viewers. */
function viewersBecome(n: number, why: string, timeoutMs = 5000): Promise<unknown> {
  return waitFor(`${n} viewer(s): ${why}`, async () => (await viewerCount()) === n || undefined, timeoutMs);
}

/** A connected viewer (201 or the test fails), with the token as a Bearer when given. */
async function watch(token?: string): Promise<ViewerGroup> {
  const group = await watchWhepProcess({
    url: `${s.url}/whep/${ch.id}`,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  groups.push(group);
  assert.equal(group.posted[0]?.status, 201, group.posted[0]?.answer);
  await group.connected;
  return group;
}

async function patch(body: Record<string, unknown>): Promise<void> {
  const res = await s.api('PATCH', `/api/v1/channels/${ch.id}`, body);
  assert.equal(res.status, 200, res.text);
}

void describe('WHEP viewers lose their sessions with their access', () => {
  void test('narrowing the preview allow-list ends the viewers it no longer admits', async () => {
    await watch();
    await viewersBecome(1, 'one viewer watching');
    await patch({ preview: ['127.0.0.0/8', '::1/128'] });
    await sleep(300);
    assert.equal(await viewerCount(), 1, 'a list that still admits loopback keeps the viewer');
    await patch({ preview: ['10.0.0.0/8'] });
    await viewersBecome(0, 'loopback is no longer allowed');
    await patch({ preview: [] });
  });

  void test('switching playback to token ends the viewers admitted without one', async () => {
    await watch();
    await viewersBecome(1, 'one viewer of the public channel');
    await patch({ playback: 'token' });
    await viewersBecome(0, 'the channel needs a token now');
  });

  void test('a viewer ends when its token expires; rotating the secret ends the rest', async () => {
    const minted = await s.api<PlaybackToken>('POST', `/api/v1/channels/${ch.id}/playback-tokens`, {
      expiresInSeconds: 3600,
    });
    assert.equal(minted.status, 201, minted.text);
    // The API mints for a minute at least: a short token is minted with the secret itself.
    const expiresAt = Date.now() + 4000;
    const short = PlaybackTokens.open(s.dataDir).mint({ channelId: ch.id }, new Date(expiresAt));
    await watch(minted.json.token);
    await watch(short);
    await viewersBecome(2, 'two viewers with tokens');
    await viewersBecome(1, 'the short token expired', 15_000);
    assert.ok(Date.now() >= expiresAt - 1000, 'not before the token expired');
    // Going public and back keeps a viewer whose token is still good.
    await patch({ playback: 'public' });
    await patch({ playback: 'token' });
    await sleep(300);
    assert.equal(await viewerCount(), 1);
    const rotated = await s.api('POST', '/api/v1/playback-secret/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    await viewersBecome(0, 'the secret that signed the token was rotated');
  });

  void test('nothing was logged as an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
