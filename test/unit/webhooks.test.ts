/**
 * Webhook deliveries against a real receiver on loopback: signatures, order,
 * retries with backoff then failure, a bounded queue, and the SSRF guard.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WebhookEvent } from '../../lib/events.ts';
import { OnairError } from '../../lib/errors.ts';
import { createLogger } from '../../server/log.ts';
import { openSqliteStore, type Store } from '../../server/store/store.ts';
import { checkReceiver, isPublicAddress, literalAddress } from '../../server/webhooks/address-guard.ts';
import { signatureHeader, verifySignature } from '../../server/webhooks/signature.ts';
import { Webhooks } from '../../server/webhooks/webhooks.ts';
import { waitFor } from '../helpers/procs.ts';

const log = createLogger('silent');

interface Received {
  at: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A receiver on 127.0.0.1 that answers `status()` and records every request. */
async function receiver(
  status: () => number = () => 204,
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ at: Date.now(), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

/** The README's verification recipe, written out as a receiver would. */
function readmeVerify(secret: string, header: string, rawBody: string): boolean {
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = fields.t ?? '';
  const v1 = fields.v1 ?? '';
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return v1.length === expected.length && timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
}

void describe('webhook signatures', () => {
  void test('the header signs "<t>.<body>" and verifies with the recipe; any change breaks it', () => {
    const body = JSON.stringify({ id: 'evt_1', type: 'channel.started' });
    const t = Math.floor(Date.now() / 1000);
    const h = signatureHeader('whsec_test', body, t);
    assert.match(h, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature('whsec_test', h, body));
    assert.ok(readmeVerify('whsec_test', h, body));
    assert.ok(!verifySignature('whsec_other', h, body));
    assert.ok(!verifySignature('whsec_test', h, `${body} `));
    assert.ok(!verifySignature('whsec_test', signatureHeader('whsec_test', body, t - 3600), body), 'too old');
  });
});

/** Addresses that are never public: loopback and private, then link-local, shared and reserved IPv4, IPv6. */
const PRIVATE_V4 = ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1'];
const SPECIAL_V4 = ['169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1'];
const NOT_PUBLIC_V6 = ['::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'];
const NOT_PUBLIC = [...PRIVATE_V4, ...SPECIAL_V4, ...NOT_PUBLIC_V6, 'not-an-address'];
/** Receivers on this machine or a private network. */
const LOCAL_URLS = ['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://localhost:9/x', 'http://10.0.0.1/x'];

void describe('the SSRF guard', () => {
  void test('loopback, private, link-local, shared and reserved addresses are not public', () => {
    for (const a of NOT_PUBLIC) assert.equal(isPublicAddress(a), false, a);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111'])
      assert.equal(isPublicAddress(a), true, a);
  });

  void test('every IPv6 transition form of a private or loopback IPv4 address is refused', async () => {
    // [form, host as written in a URL]: the URL parser rewrites dotted tails to hex.
    const refused: [string, string][] = [
      ['IPv4-mapped, dotted', '[::ffff:127.0.0.1]'],
      ['IPv4-mapped, hex', '[::ffff:7f00:1]'],
      ['IPv4-mapped, private', '[::ffff:10.0.0.1]'],
      ['IPv4-compatible, dotted', '[::127.0.0.1]'],
      ['IPv4-compatible, hex', '[::7f00:1]'],
      ['IPv4-compatible, private', '[::192.168.1.1]'],
      ['SIIT, dotted', '[::ffff:0:127.0.0.1]'],
      ['SIIT, hex', '[::ffff:0:7f00:1]'],
      ['SIIT, metadata', '[::ffff:0:169.254.169.254]'],
      ['NAT64, private', '[64:ff9b::10.0.0.1]'],
      ['NAT64, loopback', '[64:ff9b::7f00:1]'],
      ['NAT64 local-use, private', '[64:ff9b:1::a00:1]'],
      ['6to4, loopback', '[2002:7f00:1::1]'],
      ['6to4, private', '[2002:c0a8:101::1]'],
      ['Teredo', '[2001::1]'],
      ['Teredo, full', '[2001:0:4136:e378:8000:63bf:3fff:fdd2]'],
      ['link-local', '[fe80::1]'],
      ['unique-local', '[fd00::1]'],
      ['unique-local, fc', '[fc00::1]'],
      ['loopback', '[::1]'],
      ['unspecified', '[::]'],
    ];
    for (const [form, host] of refused) {
      const url = `http://${host}:9/x`;
      const address = literalAddress(new URL(url).hostname) ?? 'not a literal';
      assert.equal(isPublicAddress(address), false, `${form}: ${host} (${address})`);
      assert.match(
        (await checkReceiver(url, false)) ?? 'accepted',
        /loopback or private/,
        `${form}: ${host}`,
      );
    }
    // Public addresses, including a public IPv4 address mapped into IPv6, stay allowed.
    for (const host of ['[2606:4700::1111]', '[::ffff:8.8.8.8]', '[2a00:1450:4001::200e]'])
      assert.equal(await checkReceiver(`http://${host}:9/x`, false), undefined, host);
  });

  void test('receivers on this machine are refused unless private receivers are allowed', async () => {
    for (const url of LOCAL_URLS) {
      assert.match((await checkReceiver(url, false)) ?? 'accepted', /loopback or private/, url);
      assert.equal(await checkReceiver(url, true), undefined, url);
    }
  });
});

void describe('Webhooks and their deliveries', () => {
  let dir: string;
  let store: Store;
  let hooks: Webhooks;
  const servers: Server[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onair-webhooks-test-'));
    store = openSqliteStore(dir);
    hooks = new Webhooks({ store, log, allowPrivate: true, maxAttempts: 4, backoffMs: 100 });
  });
  after(async () => {
    hooks.close();
    await store.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (type: WebhookEvent['type'], n: number): Omit<WebhookEvent, 'id'> => ({
    type,
    at: new Date().toISOString(),
    data: { channelId: 'ch_x', message: `event ${n}` },
  });

  void test('a receiver gets signed deliveries in order, only of the events it subscribed to', async () => {
    const r = await receiver();
    servers.push(r.server);
    const w = await hooks.create({ url: r.url, events: ['channel.started', 'channel.stopped'] });
    for (let i = 0; i < 5; i++) {
      hooks.publish(event('channel.started', i));
      hooks.publish(event('encoder.started', i)); // not subscribed
      hooks.publish(event('channel.stopped', i));
    }
    await waitFor('ten deliveries', () => r.got.length >= 10, 10_000);
    const bodies = r.got.map((g) => JSON.parse(g.body) as WebhookEvent);
    assert.deepEqual(
      bodies.map((b) => `${b.type} ${b.data.message}`),
      [0, 1, 2, 3, 4].flatMap((i) => [`channel.started event ${i}`, `channel.stopped event ${i}`]),
    );
    for (const g of r.got) {
      assert.equal(g.headers['content-type'], 'application/json');
      assert.ok(readmeVerify(w.secret, String(g.headers['x-onair-signature']), g.body));
      assert.equal(g.headers['x-onair-event'], (JSON.parse(g.body) as WebhookEvent).type);
    }
    await waitFor(
      'recorded as delivered',
      async () => (await hooks.view(w)).lastDelivery?.state === 'delivered',
      5000,
    );
    const last = (await hooks.view(w)).lastDelivery!;
    assert.equal(last.attempts, 1);
    assert.equal(last.responseStatus, 204);
    assert.equal(hooks.pending, 0);
  });

  void test('a failing receiver gets retries with growing waits, then the delivery is marked failed', async () => {
    const r = await receiver(() => 500);
    servers.push(r.server);
    const w = await hooks.create({ url: r.url, events: ['*'] });
    hooks.publish(event('publisher.connected', 1));
    await waitFor(
      'marked failed',
      async () => (await hooks.view(w)).lastDelivery?.state === 'failed',
      10_000,
    );
    assert.equal(r.got.length, 4, 'maxAttempts attempts');
    const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i]!.at);
    // 100 ms, 200 ms, 400 ms: each wait at least the backoff (timers never fire early).
    gaps.forEach((gap, i) =>
      assert.ok(gap >= 100 * 2 ** i - 5, `wait ${i + 1} was ${gap} ms: ${gaps.join(', ')}`),
    );
    const last = (await hooks.view(w)).lastDelivery!;
    assert.equal(last.attempts, 4);
    assert.equal(last.responseStatus, 500);
    assert.match(last.error ?? '', /HTTP 500/);
    // Every attempt carried the same event, signed.
    const ids = new Set(r.got.map((g) => (JSON.parse(g.body) as WebhookEvent).id));
    assert.equal(ids.size, 1);
    await hooks.delete(w.id);
  });

  void test('a dead receiver never holds more than its queue: the oldest waiting deliveries are dropped', async () => {
    const r = await receiver(() => 503);
    servers.push(r.server);
    const w = await hooks.create({ url: r.url, events: ['*'] });
    for (let i = 0; i < 260; i++) hooks.publish(event('encoder.restarted', i));
    await hooks.settled();
    assert.ok(hooks.pending <= 200, `pending ${hooks.pending}`);
    const page = await hooks.deliveries(w.id, { limit: 200, offset: 0 });
    assert.ok(page.items.some((d) => d.state === 'failed' && /dropped/.test(d.error ?? '')));
    await hooks.delete(w.id);
    assert.equal(hooks.pending, 0);
  });

  void test('deliveries still pending when the server stops go out after it starts again', async () => {
    // A receiver that is down, and a long backoff: the delivery waits for its retry when the "server" stops.
    const down = await receiver();
    await new Promise((r) => down.server.close(r));
    const first = new Webhooks({ store, log, allowPrivate: true, maxAttempts: 4, backoffMs: 60_000 });
    const w = await first.create({ url: down.url, events: ['channel.stopped'] });
    first.publish(event('channel.stopped', 7));
    await waitFor(
      'a failed first attempt',
      async () => (await first.view(w)).lastDelivery?.attempts === 1,
      5000,
    );
    assert.equal((await first.view(w)).lastDelivery?.state, 'pending');
    first.close();
    // The receiver comes back on the same port; the next run resumes.
    const port = Number(new URL(down.url).port);
    const back = await new Promise<{ got: string[]; server: Server }>((resolve) => {
      const got: string[] = [];
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          got.push(body);
          res.writeHead(200).end();
        });
      }).listen(port, '127.0.0.1', () => resolve({ got, server }));
    });
    servers.push(back.server);
    const second = new Webhooks({ store, log, allowPrivate: true, maxAttempts: 4, backoffMs: 100 });
    try {
      await second.resume();
      await waitFor('redelivered', () => back.got.length === 1, 5000);
      assert.equal((JSON.parse(back.got[0]!) as WebhookEvent).data.message, 'event 7');
      await waitFor('recorded', async () => (await second.view(w)).lastDelivery?.state === 'delivered', 5000);
      assert.equal((await second.view(w)).lastDelivery?.attempts, 2);
      await second.delete(w.id);
    } finally {
      second.close();
    }
  });

  void test('a bad body is a 422 naming the field; an unknown webhook is a 404', async () => {
    await assert.rejects(
      hooks.create({ url: 'ftp://example.com/', events: ['*'] }),
      (e: unknown) => e instanceof OnairError && e.code === 'validation_failed' && e.field === 'url',
    );
    await assert.rejects(
      hooks.create({ url: 'http://127.0.0.1:9/', events: ['nope'] }),
      (e: unknown) => e instanceof OnairError && e.field === 'events.0',
    );
    await assert.rejects(
      hooks.require('wh_missing'),
      (e: unknown) => e instanceof OnairError && e.status === 404,
    );
  });
});
