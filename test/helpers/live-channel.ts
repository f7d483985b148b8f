/**
 * A live channel for a test or the bench, the way a producer makes one: create it, start it, publish
 * to it over WHIP (a publisher in its own process, so a test can make it vanish). Every step asserts
 * what the API answers, so a test that uses these reads as what it checks.
 */
import assert from 'node:assert/strict';
import type { Channel } from '../../lib/schemas.ts';
import { publishWhipProcess } from './publisher-process.ts';
import { waitFor } from './procs.ts';
import type { TestServer } from './server.ts';
import type { WhipPublisher, WhipPublisherOptions } from './whip-publisher.ts';

/** Creates a channel (201 or the test fails). */
export async function createChannel(s: TestServer, body: Record<string, unknown>): Promise<Channel> {
  const res = await s.api<Channel>('POST', '/api/v1/channels', body);
  assert.equal(res.status, 201, res.text);
  return res.json;
}

/** Starts a channel (200 or the test fails) and returns it as it runs. */
export async function startChannel(s: TestServer, id: string): Promise<Channel> {
  const res = await s.api<Channel>('POST', `/api/v1/channels/${id}/start`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

export interface PublishOptions extends Partial<Omit<WhipPublisherOptions, 'url' | 'token'>> {
  /** The backup input instead of the primary. */
  backup?: boolean;
  /** Where to note the publisher, so the test's `after` can stop it. */
  track?: WhipPublisher[];
}

/** Publishes a test pattern (640x360, 20 fps, a keyframe every 2 s by default) and waits until it is connected. */
export async function publishTo(s: TestServer, c: Channel, o: PublishOptions = {}): Promise<WhipPublisher> {
  const { backup, track, ...media } = o;
  const p = await publishWhipProcess({
    url: `${s.url}/whip/${c.id}${backup ? '/backup' : ''}`,
    token: c.streamKey,
    width: 640,
    height: 360,
    fps: 20,
    gop: 40,
    ...media,
  });
  track?.push(p);
  assert.equal(p.status, 201, p.answer);
  await p.connected;
  return p;
}

/** A channel created, started and published to. */
export async function startLiveChannel(
  s: TestServer,
  body: Record<string, unknown>,
  o: PublishOptions = {},
): Promise<{ channel: Channel; publisher: WhipPublisher }> {
  const created = await createChannel(s, body);
  const channel = await startChannel(s, created.id);
  const publisher = await publishTo(s, channel, o);
  return { channel, publisher };
}

/** Waits (up to 30 s) until the program has recorded at least `seconds`. */
export async function waitRecorded(
  s: TestServer,
  programId: string,
  seconds: number,
  what: string,
): Promise<void> {
  await waitFor(
    what,
    async () =>
      ((await s.api<{ durationSeconds: number }>('GET', `/api/v1/programs/${programId}`)).json
        .durationSeconds ?? 0) >= seconds,
    30_000,
  );
}
