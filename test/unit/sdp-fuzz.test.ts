/**
 * Property-based fuzz of the SDP parser (server/media/sdp.ts), bounded: random
 * text, and mutations of a valid WHIP offer (lines dropped, duplicated,
 * shuffled, cut, garbled). Whatever comes in, the parser answers with a result
 * or a MediaError with an SDP code (400/422 at the HTTP edge), never another exception.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toOnairError } from '../../server/http/http.ts';
import { MediaError } from '../../server/media/errors.ts';
import { addBitrateHints, checkTransport, filterCandidates, inspectOffer } from '../../server/media/sdp.ts';
import { H264, OPUS, VP8, handOffer } from '../helpers/sdp-offers.ts';

const SEED = 1307;
const RUNS = 400;

const TRANSPORT = [
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  'a=setup:actpass',
  'a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host',
];
const VALID = handOffer([
  { kind: 'video', codecs: [H264, VP8] },
  { kind: 'audio', codecs: [OPUS] },
]).replace('t=0 0\r\n', `t=0 0\r\n${TRANSPORT.join('\r\n')}\r\n`);
const LINES = VALID.split('\r\n').filter(Boolean);

/** Runs `fn`; a thrown value must be a MediaError with one of `codes`, answered with that code over HTTP. */
function answersCleanly(fn: () => unknown, codes: readonly string[]): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof MediaError && codes.includes(err.code) && codes.includes(toOnairError(err).code))
      return true;
    throw new Error(`unexpected ${String(err)}`, { cause: err });
  }
}

const SDP_CODES = ['invalid_sdp', 'unsupported_offer'] as const;

/** SDP-looking lines: real ones, and plausible garbage. */
const sdpLine = fc.oneof(
  fc.constantFrom(...LINES),
  fc.constantFrom(
    'm=video',
    'm=',
    'a=rtpmap:',
    'a=fmtp:96',
    'm=video 9 UDP/TLS/RTP/SAVPF',
    'v=0',
    'o=',
    '=',
    'a',
  ),
  fc
    .tuple(fc.constantFrom('m=', 'a=rtpmap:', 'a=fmtp:', 'a=mid:', 'c=', 'a='), fc.string({ maxLength: 80 }))
    .map(([k, v]) => k + v),
  fc.string({ unit: 'binary', maxLength: 120 }),
);

const mutatedOffer = fc
  .tuple(
    fc.shuffledSubarray(LINES, { minLength: 0, maxLength: LINES.length }),
    fc.array(fc.tuple(fc.nat(LINES.length), sdpLine), { maxLength: 6 }),
    fc.constantFrom('\r\n', '\n', '\r', ' '),
    fc.boolean(),
  )
  .map(([kept, inserts, eol, keepFirst]) => {
    const lines = keepFirst ? ['v=0', ...kept.filter((l) => l !== 'v=0')] : [...kept];
    for (const [at, line] of inserts) lines.splice(at % (lines.length + 1), 0, line);
    return lines.join(eol);
  });

void describe('SDP parser fuzz', () => {
  void test('the valid seed offer passes', () => {
    assert.equal(inspectOffer(VALID, { requireH264: true }).videoCodec, 'H264');
    checkTransport(VALID);
  });

  void test('random text and random SDP-looking lines: a summary or an SDP error, nothing else', () => {
    const header = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n';
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 2000 }),
          fc.string({ unit: 'binary', maxLength: 2000 }).map((t) => header + t),
          fc.array(sdpLine, { maxLength: 40 }).map((lines) => header + lines.join('\r\n')),
        ),
        fc.boolean(),
        (text, requireH264) => answersCleanly(() => inspectOffer(text, { requireH264 }), SDP_CODES),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  void test('mutated offers: a summary or an SDP error; what passes has one video track with a known codec', () => {
    fc.assert(
      fc.property(mutatedOffer, fc.boolean(), (sdp, requireH264) => {
        let summary: ReturnType<typeof inspectOffer> | undefined;
        answersCleanly(() => (summary = inspectOffer(sdp, { requireH264 })), SDP_CODES);
        answersCleanly(() => checkTransport(sdp), ['unsupported_offer']);
        if (summary) {
          assert.equal(summary.video.kind, 'video');
          assert.ok(summary.videoCodec === 'H264' || !requireH264);
        }
        // The answer helpers are total: they never throw on any text.
        addBitrateHints(sdp, { min: 1, start: 2, max: 3 });
        filterCandidates(sdp, () => false);
        return true;
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  void test('long lines and many sections stay bounded (no runaway regex): a 1 MB offer is parsed', () => {
    const long = `${VALID}a=x:${'9 '.repeat(200_000)}\r\nm=video ${'1 '.repeat(100_000)}\r\n`;
    answersCleanly(() => inspectOffer(long, { requireH264: false }), SDP_CODES);
    const many = VALID + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n'.repeat(5000);
    answersCleanly(() => inspectOffer(many, { requireH264: false }), SDP_CODES);
  });
});
