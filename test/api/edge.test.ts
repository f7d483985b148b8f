/**
 * The shipped nginx edge (deploy/nginx/onair-edge.conf, Debian's nginx on loopback) in front of the
 * real server: LL-HLS through it (parts, blocking reloads held and answered), and the origin seeing
 * one request per object however many clients ask. A counting relay sits between nginx and onair.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Channel } from '../../lib/schemas.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { startEdge, type NginxProcess } from '../helpers/nginx-edge.ts';
import type { WhipPublisher } from '../helpers/whip-publisher.ts';
import { startLiveChannel } from '../helpers/live-channel.ts';
import { waitFor } from '../helpers/procs.ts';

let s: TestServer;
let edge: NginxProcess;
let relay: Server;
let pub: WhipPublisher | undefined;
let ch: Channel;
/** Requests that reached the origin, by path and query. */
const seen = new Map<string, number>();

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  ms: number;
}

function get(url: string): Promise<Got> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: body.toString(),
          ms: Date.now() - t0,
        });
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const viaEdge = (p: string): Promise<Got> => get(`${edge.url}/live/${ch.id}/${p}`);
const originCount = (p: string): number => seen.get(`/live/${ch.id}/${p}`) ?? 0;

function hint(text: string): { msn: number; part: number; uri: string } {
  const line = text.split('\n').find((l) => l.startsWith('#EXT-X-PRELOAD-HINT:'))!;
  const uri = /URI="([^"]+)"/.exec(line)![1]!;
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
  const complete = text.split('\n').filter((l) => l.startsWith('#EXTINF:')).length;
  return { msn: seq + complete, part: Number(/\.p(\d+)\.m4s$/.exec(uri)![1]), uri };
}

before(async () => {
  s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1' } });
  const origin = new URL(s.url);
  relay = createServer((req, res) => {
    seen.set(req.url ?? '', (seen.get(req.url ?? '') ?? 0) + 1);
    const up = request(
      { host: origin.hostname, port: origin.port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  edge = await startEdge((relay.address() as AddressInfo).port);
  ({ channel: ch, publisher: pub } = await startLiveChannel(s, { name: 'edge', mode: 'passthrough' }));
});

after(async () => {
  await pub?.stop().catch(() => undefined);
  await edge?.stop();
  relay?.close();
  if (s?.stderr.trim()) console.error(`server stderr:\n${s.stderr.slice(-3000)}`);
  await s?.dispose();
});

void describe('the nginx edge in front of onair', () => {
  void test('serves the master and an LL-HLS media playlist; API requests pass through', async () => {
    const master = await waitFor(
      'master through the edge',
      async () => {
        const r = await viaEdge('master.m3u8');
        return r.status === 200 ? r : undefined;
      },
      15_000,
    );
    assert.match(master.text, /#EXT-X-STREAM-INF/);
    const pl = await waitFor(
      'a complete segment',
      async () => {
        const r = await viaEdge('source.m3u8');
        return r.status === 200 && r.text.includes('#EXTINF') ? r : undefined;
      },
      15_000,
    );
    assert.match(pl.text, /#EXT-X-PART:/);
    assert.match(pl.text, /CAN-BLOCK-RELOAD=YES/);
    const health = await get(`${edge.url}/api/v1/channels/${ch.id}`);
    assert.equal(health.status, 401, 'the API is proxied (and needs its token)');
  });

  void test('20 viewers of one segment and of one part: one origin request each', async () => {
    const pl = await viaEdge('source.m3u8');
    const seg = pl.text.split('\n').find((l) => l.endsWith('.m4s') && !l.startsWith('#'))!;
    const part = /URI="([^"]+\.p1\.m4s)"/.exec(pl.text)![1]!;
    for (const uri of [seg, part]) {
      const replies = await Promise.all(Array.from({ length: 20 }, () => viaEdge(uri)));
      assert.ok(replies.every((r) => r.status === 200));
      assert.ok(replies.every((r) => r.body.equals(replies[0]!.body)));
      assert.equal(originCount(uri), 1, uri);
      const again = await viaEdge(uri);
      assert.equal(again.headers['x-cache-status'], 'HIT');
    }
  });

  void test('a blocking reload through the edge is held until the part exists; 10 viewers asking it make one origin request', async () => {
    const pl = await viaEdge('source.m3u8');
    const { msn, part, uri } = hint(pl.text);
    const q = `source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`;
    const replies = await Promise.all(Array.from({ length: 10 }, () => viaEdge(q)));
    for (const r of replies) {
      assert.equal(r.status, 200, r.text);
      assert.ok(r.text.includes(uri), r.text);
      assert.ok(r.ms < 4000, `${r.ms} ms`);
    }
    assert.equal(originCount(q), 1);
    // And the hinted part itself, asked before it exists by many: held, then one origin request.
    const next = hint(replies[0]!.text);
    const parts = await Promise.all(Array.from({ length: 10 }, () => viaEdge(next.uri)));
    assert.ok(parts.every((r) => r.status === 200 && r.body.length > 0));
    assert.equal(originCount(next.uri), 1);
  });

  void test('a playlist polled by 10 clients for 3 s reaches the origin about once a second', async () => {
    const before = originCount('audio.m3u8');
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      await Promise.all(Array.from({ length: 10 }, () => viaEdge('audio.m3u8')));
      await new Promise((r) => setTimeout(r, 100));
    }
    const n = originCount('audio.m3u8') - before;
    assert.ok(n >= 2 && n <= 5, `${n} origin requests for about 250 client requests`);
  });
});
