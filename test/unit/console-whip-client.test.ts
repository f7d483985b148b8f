/** The browser WHIP publisher's pure parts: error mapping, the sentences, outgoing bitrate. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bitrateKbps,
  describeMediaError,
  describeWhipError,
  outboundBytes,
  WhipError,
  whipErrorFromResponse,
} from '../../lib/whip-client.ts';

const body = (code: string, message: string) => JSON.stringify({ error: { code, message } });

describe('whipErrorFromResponse', () => {
  test("the server's code wins", () => {
    const e = whipErrorFromResponse(409, body('channel_not_running', 'channel is stopped'));
    assert.equal(e.code, 'channel_not_running');
    assert.equal(e.status, 409);
    assert.equal(whipErrorFromResponse(409, body('publisher_exists', 'x')).code, 'publisher_exists');
    assert.equal(
      whipErrorFromResponse(422, body('unsupported_offer', 'no H264 or VP8')).message,
      'no H264 or VP8',
    );
  });
  test('falls back to the status without a JSON body', () => {
    assert.equal(whipErrorFromResponse(401, 'nope').code, 'unauthorized');
    assert.equal(whipErrorFromResponse(429, '').code, 'rate_limited');
    assert.equal(whipErrorFromResponse(404, '').code, 'channel_not_found');
    assert.equal(whipErrorFromResponse(502, '<html>bad gateway</html>').code, 'http_error');
  });
});

describe('describeWhipError', () => {
  test('the errors a user meets are sentences that say what to do', () => {
    assert.match(describeWhipError(new WhipError('channel_not_running', '')), /Start the channel first/);
    assert.match(describeWhipError(new WhipError('unauthorized', '')), /stream key was not accepted/);
    assert.match(describeWhipError(new WhipError('publisher_exists', '')), /already live/);
    assert.match(describeWhipError(new WhipError('connect_timeout', '')), /firewall/);
    assert.match(describeWhipError(new WhipError('rate_limited', '')), /Wait a minute/);
  });
  test('unknown errors keep their message', () => {
    assert.equal(describeWhipError(new Error('boom')), 'boom');
  });
});

describe('describeMediaError', () => {
  const named = (name: string) => Object.assign(new Error('x'), { name });
  test('permission denied says how to allow it', () => {
    assert.match(describeMediaError(named('NotAllowedError')), /allow the camera and microphone/);
  });
  test('missing and busy devices', () => {
    assert.match(describeMediaError(named('NotFoundError')), /No camera or microphone/);
    assert.match(describeMediaError(named('NotReadableError')), /in use by another application/);
    assert.match(describeMediaError(named('TypeError')), /HTTPS/);
  });
});

describe('outgoing bitrate', () => {
  test('sums bytesSent over outbound-rtp entries only', () => {
    assert.equal(
      outboundBytes([
        { type: 'outbound-rtp', bytesSent: 1000 },
        { type: 'outbound-rtp', bytesSent: 500 },
        { type: 'inbound-rtp', bytesSent: 9999 },
        { type: 'transport', bytesSent: 7777 },
        { type: 'outbound-rtp' },
      ]),
      1500,
    );
  });
  test('kbps between two samples (ms clock)', () => {
    assert.equal(bitrateKbps(undefined, { at: 1000, bytes: 5000 }), null);
    assert.equal(bitrateKbps({ at: 1000, bytes: 0 }, { at: 1000, bytes: 10 }), null);
    assert.equal(bitrateKbps({ at: 0, bytes: 0 }, { at: 1000, bytes: 125_000 }), 1000);
    assert.equal(bitrateKbps({ at: 0, bytes: 500 }, { at: 1000, bytes: 100 }), 0);
  });
});
