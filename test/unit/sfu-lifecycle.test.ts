/**
 * The SFU's shared lifecycle, engine-independent: media errors keep their HTTP
 * meaning at the edge, a closed engine or router refuses with a typed error,
 * the session timers close a session once and stop with it, and a source built
 * on SourceBase fans out, ends once and lets go of its consumers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toOnairError } from '../../server/http/http.ts';
import { createLogger } from '../../server/log.ts';
import { MediaError } from '../../server/media/errors.ts';
import { negotiationError } from '../../server/sfu/router-base.ts';
import { SessionTimers } from '../../server/sfu/session-timers.ts';
import { createWeriftEngine, loopbackSettings } from '../../server/sfu/start-engine.ts';
import { FakeSource } from '../helpers/fake-media.ts';

const settings = loopbackSettings(createLogger('silent'));

void describe('media errors at the HTTP edge', () => {
  void test('SDP and SFU codes keep the statuses and codes the API always answered', () => {
    const cases: [MediaError, string, number][] = [
      [new MediaError('invalid_sdp', 'x'), 'invalid_sdp', 400],
      [new MediaError('unsupported_offer', 'x'), 'unsupported_offer', 422],
      [new MediaError('router_closed', 'channel is stopping'), 'channel_not_running', 409],
      [new MediaError('sfu_unavailable', 'the SFU is shutting down'), 'unavailable', 503],
    ];
    for (const [err, code, status] of cases) {
      const mapped = toOnairError(err);
      assert.equal(mapped.code, code);
      assert.equal(mapped.status, status);
      assert.equal(mapped.message, err.message, 'the message reaches the client unchanged');
    }
  });

  void test('a negotiation failure is a typed error; a media error passes through as it is', () => {
    const typed = new MediaError('invalid_sdp', 'bad');
    assert.equal(negotiationError(typed), typed);
    const wrapped = negotiationError(new Error('boom'));
    assert.equal(wrapped.code, 'unsupported_offer');
    assert.equal(wrapped.message, 'the offer could not be negotiated: boom');
    assert.equal(wrapped.fatal, false);
  });
});

void describe('engine and router lifecycle', () => {
  void test('a closed router refuses new sessions; a closed engine refuses new routers', async () => {
    const engine = createWeriftEngine(settings);
    const router = engine.createRouter('ch_a');
    router.close();
    router.close();
    assert.equal(router.closed, true);
    await assert.rejects(
      router.createPublisher({
        offer: 'v=0',
        videoCodec: 'H264',
        withAudio: false,
        bitrate: { min: 1, start: 1, max: 1 },
      }),
      (e: unknown) => e instanceof MediaError && e.code === 'router_closed',
    );
    const open = engine.createRouter('ch_b');
    await engine.close();
    assert.equal(open.closed, true, 'closing the engine closes its routers');
    assert.throws(
      () => engine.createRouter('ch_c'),
      (e: unknown) => e instanceof MediaError && e.code === 'sfu_unavailable',
    );
  });
});

void describe('SessionTimers', () => {
  void test('ICE: disconnected closes after the grace period unless it recovers; failed closes at once', async () => {
    const closed: string[] = [];
    const timers = new SessionTimers((r) => closed.push(r));
    timers.ice('disconnected', 20);
    assert.equal(timers.ice('connected', 20), true);
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(closed, [], 'recovered in time');
    timers.ice('disconnected', 10);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(closed, ['ICE disconnected']);
    timers.ice('failed', 10);
    assert.equal(timers.dtls('closed'), false);
    assert.deepEqual(closed, ['ICE disconnected', 'ICE failed', 'DTLS closed']);
    timers.clear();
    timers.ice('failed', 10);
    timers.connectDeadline(1, () => true);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(closed.length, 3, 'nothing after clear()');
  });
});

void describe('SourceBase', () => {
  void test('fan-out per track, one ended event, consumers let go on close', () => {
    const source = new FakeSource({ audio: false });
    const got: number[] = [];
    const ended: string[] = [];
    source.on('ended', (r) => ended.push(r));
    const off = source.subscribe('video', (p) => got.push(p.length));
    assert.throws(() => source.subscribe('audio', () => undefined), RangeError);
    source.goLive();
    assert.equal(source.state, 'live');
    assert.ok(source.liveSince);
    assert.equal(got.length, 1, 'the keyframe went to the subscriber');
    off();
    source.send('video');
    assert.equal(got.length, 1, 'unsubscribed');
    source.subscribe('video', (p) => got.push(p.length));
    source.close('bye');
    source.close('again');
    assert.deepEqual(ended, ['bye']);
    assert.equal(source.listenerCount('video'), 0);
  });
});
