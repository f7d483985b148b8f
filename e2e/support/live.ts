/**
 * What several specs do around a live channel: create and start it, publish a camera to it, and note
 * timings in the report.
 */
import { expect, type APIRequestContext, type TestInfo } from '@playwright/test';
import type { Channel } from '../../lib/schemas.ts';
import { BASE_URL } from '../../playwright.config.ts';
import { publishWhip, type WhipPublisher } from '../../test/helpers/whip-publisher.ts';

/** Creates a channel with `data` (201) and starts it (200), sending `headers` (the admin token). */
export async function createAndStart(
  request: APIRequestContext,
  headers: Record<string, string>,
  data: Record<string, unknown>,
): Promise<Channel> {
  const created = await request.post('/api/v1/channels', { headers, data });
  expect(created.status()).toBe(201);
  const channel = (await created.json()) as Channel;
  expect((await request.post(`/api/v1/channels/${channel.id}/start`, { headers })).status()).toBe(200);
  return channel;
}

/** A 720p, 20 fps camera (a keyframe every 2 s) published over WHIP; resolves once it is connected. */
export async function publishCamera(channel: Channel): Promise<WhipPublisher> {
  const publisher = await publishWhip({
    url: `${BASE_URL}/whip/${channel.id}`,
    token: channel.streamKey,
    width: 1280,
    height: 720,
    fps: 20,
    gop: 40,
  });
  expect(publisher.status).toBe(201);
  await publisher.connected;
  return publisher;
}

/** A note in the test's report and on the console (`type`: what the figure is, e.g. `timing`). */
export function reporter(testInfo: TestInfo, type: string): (msg: string) => void {
  return (msg) => {
    testInfo.annotations.push({ type, description: msg });
    console.log(`  · ${msg}`);
  };
}
