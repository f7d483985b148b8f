/**
 * Webhooks against the real server process and a receiver on loopback: signed
 * deliveries in order (a publisher going live among them), program and asset
 * events, retries with backoff then failure, what the API shows, and the SSRF
 * guard that refuses receivers on this machine by default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookEvent } from '../../lib/events.ts';
import type { Channel, Page, Program, Webhook, WebhookDelivery } from '../../lib/schemas.ts';
import { assertError, startServer, type TestServer } from '../helpers/server.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import {
  createChannel as createChannelIn,
  publishTo,
  startChannel,
  waitRecorded,
} from '../helpers/live-channel.ts';
import { waitFor } from '../helpers/procs.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';

interface Received {
  at: number;
  raw: string;
  headers: IncomingHttpHeaders;
  event: WebhookEvent;
}

class Receiver {
  readonly got: Received[] = [];
  status = 200;
  server: Server | undefined;
  url = '';

  async listen(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.got.push({ at: Date.now(), raw, headers: req.headers, event: JSON.parse(raw) as WebhookEvent });
        res.writeHead(this.status, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/onair`;
    return this;
  }

  types(): string[] {
    return this.got.map((g) => g.event.type);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Verification as the README tells a receiver to do it (Node, no onair code). */
function verify(secret: string, signature: string, rawBody: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(signature.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest('hex');
  const given = parts.v1 ?? '';
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

let s: TestServer;
const receivers: Receiver[] = [];
const publishers: WhipPublisher[] = [];

before(async () => {
  s = await startServer({
    env: {
      ONAIR_WEBHOOK_ALLOW_PRIVATE: '1',
      ONAIR_WEBHOOK_BACKOFF_MS: '200',
      ONAIR_WEBHOOK_MAX_ATTEMPTS: '3',
      ONAIR_LOOPBACK_ONLY_ICE: '1',
    },
  });
});

after(async () => {
  for (const p of publishers) await p.stop().catch(() => undefined);
  await s?.dispose();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(): Promise<Receiver> {
  const r = await new Receiver().listen();
  receivers.push(r);
  return r;
}

async function addWebhook(url: string, events: string[]): Promise<Webhook> {
  const res = await s.api<Webhook>('POST', '/api/v1/webhooks', { url, events });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const createChannel = (body: Record<string, unknown> = {}): Promise<Channel> =>
  createChannelIn(s, { name: 'webhook test', ...body });

void describe('webhooks', () => {
  void test('POST creates a webhook with a signing secret; GET lists and shows it', async () => {
    const r = await receiver();
    const w = await addWebhook(r.url, ['channel.started', 'channel.started', 'asset.ready']);
    assert.match(w.id, /^wh_/);
    assert.match(w.secret, /^whsec_[\w-]{32,}$/);
    assert.deepEqual(w.events, ['channel.started', 'asset.ready'], 'duplicates are dropped');
    assert.equal(w.lastDelivery, null);
    const list = await s.api<Page<Webhook>>('GET', '/api/v1/webhooks');
    assert.ok(list.json.items.some((x) => x.id === w.id));
    const one = await s.api<Webhook>('GET', `/api/v1/webhooks/${w.id}`);
    assert.equal(one.json.url, r.url);
    assert.equal((await s.api('DELETE', `/api/v1/webhooks/${w.id}`)).status, 204);
    assertError(await s.api('GET', `/api/v1/webhooks/${w.id}`), 404, 'webhook_not_found');
  });

  void test('a receiver gets signed events in order, a publisher going live among them', async () => {
    const r = await receiver();
    const w = await addWebhook(r.url, [
      'channel.started',
      'publisher.connected',
      'publisher.disconnected',
      'channel.stopped',
    ]);
    const c = await createChannel({ mode: 'passthrough' });
    await startChannel(s, c.id);
    const p = await publishTo(s, c, { track: publishers });
    await waitFor('publisher.connected delivered', () => r.types().includes('publisher.connected'), 20_000);
    await p.stop();
    await waitFor(
      'publisher.disconnected delivered',
      () => r.types().includes('publisher.disconnected'),
      20_000,
    );
    assert.equal((await s.api('POST', `/api/v1/channels/${c.id}/stop`)).status, 200);
    await waitFor('channel.stopped delivered', () => r.types().includes('channel.stopped'), 10_000);
    assert.deepEqual(r.types(), [
      'channel.started',
      'publisher.connected',
      'publisher.disconnected',
      'channel.stopped',
    ]);
    for (const g of r.got) {
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers['x-onair-event'], g.event.type);
      assert.match(String(g.headers['user-agent']), /^onair-webhooks\//);
      assert.ok(verify(w.secret, String(g.headers['x-onair-signature']), g.raw), 'the signature verifies');
      assert.ok(!verify('whsec_another', String(g.headers['x-onair-signature']), g.raw));
      assert.equal(g.event.data.channelId, c.id);
      assert.match(g.event.id, /^evt_[0-9a-f]{24}$/);
      assert.ok(!Number.isNaN(Date.parse(g.event.at)));
    }
    await waitFor(
      'recorded',
      async () => {
        const seen = await s.api<Webhook>('GET', `/api/v1/webhooks/${w.id}`);
        return (
          seen.json.lastDelivery?.state === 'delivered' &&
          seen.json.lastDelivery.eventType === 'channel.stopped'
        );
      },
      5000,
    );
    const deliveries = await s.api<Page<WebhookDelivery>>('GET', `/api/v1/webhooks/${w.id}/deliveries`);
    assert.equal(deliveries.json.total, 4);
    for (const d of deliveries.json.items) {
      assert.equal(d.state, 'delivered');
      assert.equal(d.attempts, 1);
      assert.equal(d.responseStatus, 200);
    }
  });

  void test('programs and assets: started, stopped, asset ready, asset deleted', async () => {
    const r = await receiver();
    await addWebhook(r.url, ['program.started', 'program.stopped', 'asset.ready', 'asset.deleted']);
    const c = await createChannel({ mode: 'passthrough' });
    await startChannel(s, c.id);
    const pub = await publishTo(s, c, { track: publishers });
    const p = (await s.api<Program>('POST', `/api/v1/channels/${c.id}/programs`, { name: 'Keynote' })).json;
    assert.equal((await s.api('POST', `/api/v1/programs/${p.id}/start`)).status, 200);
    // A recording with something in it: an asset that becomes ready once its files are kept.
    await waitRecorded(s, p.id, 2, 'two seconds recorded');
    const stopped = await s.api<Program>('POST', `/api/v1/programs/${p.id}/stop`);
    const assetId = stopped.json.assetId;
    assert.ok(assetId);
    await waitFor('asset.ready', () => r.types().includes('asset.ready'), 20_000);
    assert.equal((await s.api('DELETE', `/api/v1/assets/${assetId}`)).status, 204);
    await waitFor('asset.deleted', () => r.types().includes('asset.deleted'), 10_000);
    assert.deepEqual(r.types(), ['program.started', 'program.stopped', 'asset.ready', 'asset.deleted']);
    assert.equal(r.got[0]!.event.data.programId, p.id);
    assert.equal(r.got[1]!.event.data.assetId, assetId);
    assert.equal(r.got[2]!.event.data.assetId, assetId);
    assert.equal(r.got[3]!.event.data.assetId, assetId);
    await pub.stop();
    await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  });

  void test('a failing receiver gets retries with growing waits, then the delivery is marked failed', async () => {
    const r = await receiver();
    r.status = 500;
    const w = await addWebhook(r.url, ['*']);
    const ping = await s.api<WebhookDelivery>('POST', `/api/v1/webhooks/${w.id}/ping`);
    assert.equal(ping.status, 202, ping.text);
    assert.equal(ping.json.state, 'pending');
    const failed = await waitFor(
      'marked failed',
      async () => {
        const seen = await s.api<Webhook>('GET', `/api/v1/webhooks/${w.id}`);
        return seen.json.lastDelivery?.state === 'failed' ? seen.json.lastDelivery : undefined;
      },
      15_000,
    );
    assert.equal(failed.attempts, 3);
    assert.equal(failed.responseStatus, 500);
    assert.equal(failed.eventType, 'webhook.ping');
    assert.match(failed.error ?? '', /HTTP 500/);
    assert.equal(r.got.length, 3, 'ONAIR_WEBHOOK_MAX_ATTEMPTS attempts, no more');
    const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i]!.at);
    // Backoff 200 ms, then 400 ms: a wait is never shorter than its backoff.
    assert.ok(gaps[0]! >= 195 && gaps[1]! >= 395, `waits ${gaps.join(', ')} ms`);
    assert.ok(gaps[1]! > gaps[0]!, `waits grow: ${gaps.join(', ')} ms`);
    assert.equal(new Set(r.got.map((g) => g.event.id)).size, 1, 'every retry is the same event');
    for (const g of r.got) assert.ok(verify(w.secret, String(g.headers['x-onair-signature']), g.raw));
    // A receiver that recovers gets the next event at once.
    r.status = 204;
    await s.api('POST', `/api/v1/webhooks/${w.id}/ping`);
    await waitFor(
      'delivered after recovery',
      async () => {
        const seen = await s.api<Webhook>('GET', `/api/v1/webhooks/${w.id}`);
        return seen.json.lastDelivery?.state === 'delivered';
      },
      10_000,
    );
  });

  void test('bad bodies are 422s naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', events: ['*'] }, 'url'],
      [{ url: 'javascript:alert(1)', events: ['*'] }, 'url'],
      [{ url: 'http://user:pw@example.com/', events: ['*'] }, 'url'],
      [{ url: 'http://127.0.0.1:9/x', events: [] }, 'events'],
      [{ url: 'http://127.0.0.1:9/x', events: ['channel.exploded'] }, 'events.0'],
      [{ url: 'http://127.0.0.1:9/x', events: ['*'], extra: 1 }, 'extra'],
      [{ url: 'http://no-such-host.invalid/x', events: ['*'] }, 'url'],
    ];
    for (const [body, field] of cases) {
      const res = await s.api('POST', '/api/v1/webhooks', body);
      assertError(res, 422, 'validation_failed');
      assert.equal((res.json as { error: { field?: string } }).error.field, field, res.text);
    }
  });
});

void describe('webhooks with ONAIR_WEBHOOK_ALLOW_PRIVATE=0 (the default)', () => {
  const suite = suiteServer();

  void test('receivers on loopback or private addresses are refused (SSRF)', async () => {
    const d = suite.server;
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://localhost/x',
      'http://[::1]/x',
      'http://10.0.0.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
    ]) {
      const res = await d.api('POST', '/api/v1/webhooks', { url, events: ['*'] });
      const { message } = assertError(res, 422, 'validation_failed', 'ONAIR_WEBHOOK_ALLOW_PRIVATE');
      assert.match(message, /loopback or private/, url);
    }
    assert.equal((await d.api<Page<Webhook>>('GET', '/api/v1/webhooks')).json.total, 0);
  });
});

void describe('afterwards', () => {
  void test('nothing was logged as an error', () => {
    assert.deepEqual(s.errorLogs(), []);
  });
});
