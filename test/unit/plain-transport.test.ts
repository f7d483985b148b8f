/** The plain-RTP consumer on real UDP sockets, and the keyframe gate. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { KEYFRAME_RETRY_MS, KeyframeGate, untilKeyframe } from '../../server/sfu/keyframe-gate.ts';
import { PlainTransport } from '../../server/sfu/plain-transport.ts';
import { FakeSource } from '../helpers/fake-media.ts';

const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

async function receiver(): Promise<{ port: number; packets: Buffer[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const packets: Buffer[] = [];
  socket.on('message', (m) => packets.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, packets };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(ok(), what);
}

void describe('KeyframeGate', () => {
  void test('many requests within the interval cause one request upstream', () => {
    let now = 1000;
    let sent = 0;
    const gate = new KeyframeGate(() => sent++, { minIntervalMs: 300, now: () => now });
    for (let i = 0; i < 25; i++) gate.request();
    assert.equal(sent, 1);
    assert.equal(gate.dropped, 24);
    now += 299;
    gate.request();
    assert.equal(sent, 1);
    now += 1;
    gate.request();
    assert.equal(sent, 2);
  });

  void test('once the keyframe asked for has arrived, the next request goes out (after a short floor)', () => {
    let now = 0;
    let sent = 0;
    const gate = new KeyframeGate(() => sent++, { minIntervalMs: 300, floorMs: 100, now: () => now });
    gate.request();
    now += 50;
    gate.request();
    assert.equal(sent, 1, 'the keyframe is on its way: it serves this viewer too');
    gate.keyframeArrived();
    now += 20;
    gate.request();
    assert.equal(sent, 1, 'within the floor');
    now += 40; // 110 ms after the first request, the keyframe already passed
    gate.request();
    assert.equal(sent, 2, 'a viewer that joined after the keyframe passed asks again at once');
    now += 150;
    gate.request();
    assert.equal(sent, 2, 'not answered yet: the interval holds');
  });
});

void describe('untilKeyframe (a mediasoup consumer that has just started: the encoder link, a WHEP viewer)', () => {
  void test('asks every KEYFRAME_RETRY_MS until a keyframe passes, then stops listening', async () => {
    const source = new FakeSource().goLive();
    let asked = 0;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const listeners = source.listenerCount('video');
    const stop = untilKeyframe(source, () => asked++);
    assert.equal(source.listenerCount('video'), listeners + 1);
    source.send('video');
    assert.equal(asked, 0, 'the caller asked already: not again at once');
    await sleep(KEYFRAME_RETRY_MS + 20);
    source.send('video');
    assert.equal(asked, 1, 'no keyframe came: asked again');
    source.send('video', { key: true });
    await sleep(0);
    assert.equal(source.listenerCount('video'), listeners, 'a keyframe passed: it stopped listening');
    await sleep(KEYFRAME_RETRY_MS + 20);
    source.send('video');
    assert.equal(asked, 1);
    stop();
    stop();
  });
});

void describe('PlainTransport', () => {
  void test('asks for a keyframe again every KEYFRAME_RETRY_MS until one passes (a first request may be ignored)', async () => {
    const video = await receiver();
    const source = new FakeSource().goLive();
    const before = source.keyframeRequests;
    const t = new PlainTransport({
      source,
      targets: [{ trackId: 'video', host: '127.0.0.1', port: video.port, payloadType: 96 }],
    });
    assert.equal(source.keyframeRequests, before + 1, 'asked when it opened');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    source.send('video');
    assert.equal(source.keyframeRequests, before + 1, 'not again at once');
    await sleep(KEYFRAME_RETRY_MS + 20);
    source.send('video');
    assert.equal(source.keyframeRequests, before + 2, 'no keyframe came: asked again');
    source.send('video', { key: true });
    await sleep(KEYFRAME_RETRY_MS + 20);
    source.send('video');
    assert.equal(source.keyframeRequests, before + 2, 'a keyframe passed: no more asking');
    await until('all forwarded', () => video.packets.length === 4);
    t.close();
  });

  void test('sends each track to its port with the receiver payload type, BYE on close', async () => {
    const video = await receiver();
    const audio = await receiver();
    const source = new FakeSource().goLive();
    const t = new PlainTransport({
      source,
      targets: [
        { trackId: 'video', host: '127.0.0.1', port: video.port, payloadType: 96 },
        { trackId: 'audio', host: '127.0.0.1', port: audio.port, payloadType: 111 },
      ],
    });
    assert.equal(source.keyframeRequests, 1, 'a keyframe for the receiver to start on');
    source.emit('video', 0x80 | 102); // marker bit set
    source.emit('audio', 63);
    await until('both packets', () => video.packets.length === 1 && audio.packets.length === 1);
    assert.equal(video.packets[0]![1], 0x80 | 96, 'payload type rewritten, marker kept');
    assert.equal(audio.packets[0]![1], 111);
    assert.equal(t.packets, 2);
    t.close({ bye: true });
    t.close({ bye: true });
    await until('the BYE', () => video.packets.length === 2);
    const bye = video.packets[1]!;
    assert.equal(bye[1], 0xcb, 'RTCP BYE');
    assert.equal(bye.length, 12);
    source.emit('video');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(video.packets.length, 2, 'nothing after close');
    assert.equal(source.listenerCount('video'), 0, 'unsubscribed');
  });

  void test('asks the source for keyframes at the given interval; rejects unknown tracks', async () => {
    const r = await receiver();
    const source = new FakeSource({ audio: false }).goLive();
    assert.throws(
      () =>
        new PlainTransport({
          source,
          targets: [{ trackId: 'audio', host: '127.0.0.1', port: r.port, payloadType: 111 }],
        }),
      RangeError,
    );
    let closed = 0;
    const t = new PlainTransport(
      {
        source,
        targets: [{ trackId: 'video', host: '127.0.0.1', port: r.port, payloadType: 96 }],
        keyframeIntervalMs: 20,
      },
      () => closed++,
    );
    await until('periodic keyframe requests', () => source.keyframeRequests >= 3);
    t.close();
    const n = source.keyframeRequests;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(source.keyframeRequests, n, 'no requests after close');
    assert.equal(closed, 1, 'the owner is told once');
  });
});
