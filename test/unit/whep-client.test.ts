/** The browser WHEP player's pure parts: errors, retry delays, ICE server links, the delay estimate. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeWhepError,
  estimateDelaySeconds,
  parseIceServerLinks,
  readReceiveSample,
  retryDelayMs,
  whepErrorFromResponse,
  WhepError,
} from '../../lib/whep-client.ts';

const body = (code: string, message = 'm') => JSON.stringify({ error: { code, message } });

void describe('whepErrorFromResponse', () => {
  void test("the server's codes, its Retry-After, and what a player should do with them", () => {
    const notLive = whepErrorFromResponse(409, body('publisher_not_live', 'no publisher'), '2');
    assert.equal(notLive.code, 'publisher_not_live');
    assert.equal(notLive.retryAfterSeconds, 2);
    assert.equal(notLive.waiting, true);
    assert.equal(notLive.transportFailed, false);
    const stopped = whepErrorFromResponse(409, body('channel_not_running'), null);
    assert.equal(stopped.waiting, true);
    assert.equal(stopped.retryAfterSeconds, undefined);
    const full = whepErrorFromResponse(503, body('viewer_limit_reached'), '10');
    assert.equal(full.code, 'viewer_limit_reached');
    assert.equal(full.waiting, false);
    assert.equal(whepErrorFromResponse(422, body('unsupported_offer')).transportFailed, true);
  });

  void test('statuses without a known body, and odd Retry-After values', () => {
    assert.equal(whepErrorFromResponse(404, 'not json').code, 'channel_not_found');
    assert.equal(whepErrorFromResponse(403, '').code, 'forbidden');
    assert.equal(whepErrorFromResponse(429, '', '7').retryAfterSeconds, 7);
    assert.equal(
      whepErrorFromResponse(503, '', 'Wed, 21 Oct 2015 07:28:00 GMT').retryAfterSeconds,
      undefined,
    );
    const other = whepErrorFromResponse(500, body('internal_error', 'boom'));
    assert.equal(other.code, 'http_error');
    assert.equal(other.message, 'boom');
  });

  void test('every code reads as a sentence', () => {
    for (const code of [
      'publisher_not_live',
      'channel_not_running',
      'channel_not_found',
      'viewer_limit_reached',
      'forbidden',
      'rate_limited',
      'unsupported_offer',
      'unsupported_browser',
      'network_error',
      'connect_failed',
      'connect_timeout',
      'http_error',
    ] as const) {
      const text = describeWhepError(new WhepError(code, 'x'));
      assert.match(text, /^[A-Z].*[.…]$/, `${code}: ${text}`);
    }
    assert.equal(describeWhepError(new Error('plain')), 'plain');
  });
});

void describe('retryDelayMs', () => {
  void test('Retry-After when given, else 1 s doubling to 15 s; up to 20 % jitter', () => {
    const none = () => 0;
    assert.equal(retryDelayMs(0, undefined, none), 1000);
    assert.equal(retryDelayMs(1, undefined, none), 2000);
    assert.equal(retryDelayMs(3, undefined, none), 8000);
    assert.equal(retryDelayMs(10, undefined, none), 15_000);
    assert.equal(retryDelayMs(5, 2, none), 2000, "the server's Retry-After wins");
    assert.equal(retryDelayMs(0, 0, none), 500, 'never a tight loop');
    assert.equal(
      retryDelayMs(0, undefined, () => 1),
      1200,
    );
  });
});

void describe('parseIceServerLinks', () => {
  void test('STUN and TURN servers from Link headers; other relations ignored', () => {
    const header =
      '<stun:stun.example.com:3478>; rel="ice-server", <turn:turn.example.com:3478?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password", <https://example.com/>; rel="help"';
    assert.deepEqual(parseIceServerLinks(header), [
      { urls: 'stun:stun.example.com:3478' },
      { urls: 'turn:turn.example.com:3478?transport=udp', username: 'u', credential: 'p' },
    ]);
    assert.deepEqual(parseIceServerLinks(null), []);
    assert.deepEqual(parseIceServerLinks(''), []);
  });
});

void describe('the delay estimate', () => {
  const report = (o: { jb: number; emitted: number; decode: number; frames: number; rtt?: number }) => [
    {
      type: 'inbound-rtp',
      kind: 'video',
      framesDecoded: o.frames,
      jitterBufferDelay: o.jb,
      jitterBufferEmittedCount: o.emitted,
      totalDecodeTime: o.decode,
    },
    { type: 'inbound-rtp', kind: 'audio', packetsReceived: 500, totalSamplesReceived: 480_000 },
    { type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: o.rtt },
    { type: 'candidate-pair', state: 'failed', nominated: false, currentRoundTripTime: 9 },
  ];

  void test('reads the figures from a getStats() report', () => {
    const s = readReceiveSample(report({ jb: 3, emitted: 100, decode: 0.5, frames: 100, rtt: 0.02 }));
    assert.deepEqual(s, {
      framesDecoded: 100,
      jitterBufferDelay: 3,
      jitterBufferEmittedCount: 100,
      totalDecodeTime: 0.5,
      roundTripTime: 0.02,
      audioPacketsReceived: 500,
      audioSamplesReceived: 480_000,
    });
  });

  void test('jitter buffer, decoding and the network, between two samples', () => {
    const a = readReceiveSample(report({ jb: 3, emitted: 100, decode: 0.5, frames: 100, rtt: 0.02 }));
    // The next second: 20 frames that waited 60 ms each and took 5 ms to decode.
    const b = readReceiveSample(report({ jb: 4.2, emitted: 120, decode: 0.6, frames: 120, rtt: 0.02 }));
    const d = estimateDelaySeconds(a, b)!;
    assert.ok(Math.abs(d - (0.06 + 0.005 + 0.02)) < 1e-9, String(d));
    assert.equal(estimateDelaySeconds(b, b), undefined, 'no frame since: no estimate');
    assert.equal(estimateDelaySeconds(undefined, readReceiveSample([])), undefined);
  });
});
