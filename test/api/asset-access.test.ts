/**
 * Recordings of a program that recorded nothing, against the real server process: who may watch one
 * after its channel is gone (and the server restarted), and its download (there is none: 404).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, Program } from '../../lib/schemas.ts';
import { assertError, startServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;

before(async () => {
  s = await startServer();
});

after(async () => {
  await s?.dispose();
});

/** A channel (started) and the asset of a program of it that was started and stopped at once. */
async function emptyRecording(body: Record<string, unknown>): Promise<{ channel: Channel; assetId: string }> {
  const channel = (await s.api<Channel>('POST', '/api/v1/channels', body)).json;
  assert.equal((await s.api('POST', `/api/v1/channels/${channel.id}/start`)).status, 200);
  const p = (await s.api<Program>('POST', `/api/v1/channels/${channel.id}/programs`, { name: 'empty' })).json;
  assert.equal((await s.api('POST', `/api/v1/programs/${p.id}/start`)).status, 200);
  const stopped = await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`);
  assert.equal(stopped.status, 200, stopped.text);
  assert.ok(stopped.json.assetId);
  return { channel, assetId: stopped.json.assetId };
}

const get = (p: string) => s.request('GET', p, { auth: false });

void describe('asset access', () => {
  void test("a token channel's recording stays protected after the channel is deleted and the server restarts", async () => {
    const { channel, assetId } = await emptyRecording({ name: 'private', playback: 'token' });
    assertError(await get(`/vod/${assetId}/info.json`), 401, 'token_required');
    assert.equal((await s.api('POST', `/api/v1/channels/${channel.id}/stop`)).status, 200);
    assert.equal((await s.api('DELETE', `/api/v1/channels/${channel.id}`)).status, 204);
    assertError(await get(`/vod/${assetId}/info.json`), 401, 'token_required');
    await s.restart();
    assertError(await get(`/vod/${assetId}/info.json`), 401, 'token_required');
    assertError(await get(`/vod/${assetId}/master.m3u8`), 401, 'token_required');
  });

  void test('the download of a recording with no media is a 404, not a server error', async () => {
    const { assetId } = await emptyRecording({ name: 'public' });
    assert.equal((await get(`/vod/${assetId}/info.json`)).status, 200);
    for (let i = 0; i < 2; i++) {
      assertError(await get(`/vod/${assetId}/download.mp4`), 404, 'not_found', /no media/);
    }
  });

  void test('nothing was logged as an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
