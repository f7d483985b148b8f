/**
 * WHEP offers, before any WebRTC work: what is receivable, which offered payload
 * type carries the publisher's codec, and the offer restricted to it. Uses a
 * real Chromium recvonly offer (test/golden/chromium-whep-offer.sdp).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toOnairError } from '../../server/http/http.ts';
import { MediaError } from '../../server/media/errors.ts';
import {
  inspectViewerOffer,
  matchOfferedCodec,
  parseMediaSections,
  restrictOfferCodecs,
  type OfferedCodec,
} from '../../server/media/sdp.ts';
import type { SourceDescription } from '../../server/media/source.ts';
import { planViewer } from '../../server/sfu/viewer-plan.ts';
import { H264, OPUS, VP8 } from '../helpers/fake-media.ts';
import { handOffer, type HandMedia } from '../helpers/sdp-offers.ts';

const CHROMIUM = readFileSync(
  path.join(import.meta.dirname, '..', 'golden', 'chromium-whep-offer.sdp'),
  'utf8',
);

function code(c: string) {
  // A media error with that code, which the HTTP edge answers with the same code.
  return (err: unknown) => err instanceof MediaError && err.code === c && toOnairError(err).code === c;
}

const source = (video = H264, audio = true): SourceDescription => ({
  tracks: [
    { id: 'video', kind: 'video', codec: video, ssrc: 1 },
    ...(audio ? [{ id: 'audio', kind: 'audio' as const, codec: OPUS, ssrc: 2 }] : []),
  ],
});

void describe('inspectViewerOffer', () => {
  void test("Chromium's recvonly offer: one video and one audio section to send to", () => {
    const s = inspectViewerOffer(CHROMIUM);
    assert.equal(s.video?.index, 0);
    assert.equal(s.audio?.index, 1);
    assert.equal(s.video?.media.direction, 'recvonly');
  });

  void test('sendrecv is served as recvonly; sendonly and inactive sections are not served', () => {
    const s = inspectViewerOffer(
      handOffer([
        { kind: 'video', codecs: ['VP8/90000'], direction: 'sendrecv' },
        { kind: 'audio', codecs: ['opus/48000/2'], direction: 'sendonly' },
      ]),
    );
    assert.equal(s.video?.index, 0);
    assert.equal(s.audio, undefined);
  });

  void test('malformed SDP → invalid_sdp; nothing receivable → unsupported_offer', () => {
    assert.throws(() => inspectViewerOffer('hello'), code('invalid_sdp'));
    assert.throws(() => inspectViewerOffer('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n'), code('invalid_sdp'));
    assert.throws(
      () => inspectViewerOffer(handOffer([{ kind: 'video', codecs: ['VP8/90000'], direction: 'sendonly' }])),
      (err) => code('unsupported_offer')(err) && /nothing to receive/.test((err as Error).message),
    );
    assert.throws(
      () => inspectViewerOffer(handOffer([{ kind: 'application', codecs: [], direction: 'recvonly' }])),
      code('unsupported_offer'),
    );
    const recvonly = (kind: 'video' | 'audio', codec: string): HandMedia => ({
      kind,
      codecs: [codec],
      direction: 'recvonly',
    });
    assert.throws(
      () => inspectViewerOffer(handOffer([recvonly('video', 'AV1/90000'), recvonly('audio', 'PCMU/8000')])),
      (err) => code('unsupported_offer')(err) && /H\.264.*VP8.*Opus/.test((err as Error).message),
    );
    assert.throws(
      () => inspectViewerOffer(handOffer([recvonly('video', 'VP8/90000'), recvonly('video', 'VP8/90000')])),
      (err) => code('unsupported_offer')(err) && /2 video/.test((err as Error).message),
    );
  });
});

void describe('matchOfferedCodec', () => {
  const offered = parseMediaSections(CHROMIUM)[0]!.codecs;
  const pt = (c: OfferedCodec | undefined) => c?.payloadType;

  void test('H.264: the same packetization mode, and the closest profile-level-id', () => {
    const sent = (fmtp: string) => ({ name: 'H264', clockRate: 90000, fmtp });
    assert.equal(pt(matchOfferedCodec(offered, sent('packetization-mode=1;profile-level-id=42e01f'))), 108);
    assert.equal(pt(matchOfferedCodec(offered, sent('profile-level-id=42001f;packetization-mode=1'))), 102);
    // Level differs (3.2 vs 3.1): same profile and constraints win.
    assert.equal(pt(matchOfferedCodec(offered, sent('packetization-mode=1;profile-level-id=42e020'))), 108);
    assert.equal(pt(matchOfferedCodec(offered, sent('packetization-mode=1;profile-level-id=4d0028'))), 116);
    // High profile is not offered: any packetization-mode=1 H.264 (decoders read the SPS).
    assert.equal(pt(matchOfferedCodec(offered, sent('packetization-mode=1;profile-level-id=64001f'))), 102);
    assert.equal(pt(matchOfferedCodec(offered, sent('packetization-mode=0;profile-level-id=42e01f'))), 114);
    assert.equal(
      pt(
        matchOfferedCodec(
          offered.filter((c) => c.name !== 'H264'),
          sent('packetization-mode=1'),
        ),
      ),
      undefined,
    );
  });

  void test('VP8 and Opus: by name and clock rate', () => {
    assert.equal(pt(matchOfferedCodec(offered, VP8)), 96);
    const audio = parseMediaSections(CHROMIUM)[1]!.codecs;
    assert.equal(pt(matchOfferedCodec(audio, OPUS)), 111);
    assert.equal(matchOfferedCodec(audio, VP8), undefined);
  });
});

void describe('restrictOfferCodecs and planViewer', () => {
  void test('the offer keeps only the chosen payload types in the served sections', () => {
    const out = restrictOfferCodecs(CHROMIUM, new Map([[0, [108]]]));
    const [video, audio] = parseMediaSections(out);
    assert.deepEqual(
      video!.codecs.map((c) => [c.payloadType, c.name]),
      [[108, 'H264']],
    );
    assert.match(out, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 108\r$/m);
    assert.doesNotMatch(out, /^a=rtcp-fb:96 /m, 'feedback lines of removed codecs go too');
    assert.match(out, /^a=rtcp-fb:108 nack pli\r$/m);
    assert.equal(audio!.codecs.length, 8, 'sections not listed are left alone');
    assert.ok(out.includes('\r\n') && !/[^\r]\n/.test(out), 'CRLF line ends are kept');
    for (const l of ['a=ice-ufrag:', 'a=fingerprint:', 'a=mid:0', 'a=group:BUNDLE 0 1'])
      assert.ok(out.includes(l), `lost ${l}`);
  });

  void test('an H.264 publisher: H.264 and Opus, as the viewer offered them', () => {
    const plan = planViewer(CHROMIUM, inspectViewerOffer(CHROMIUM), source());
    assert.equal(
      plan.video?.offered.payloadType,
      102,
      'the fake source sends packetization-mode=1, no profile',
    );
    assert.equal(plan.audio?.offered.payloadType, 111);
    const sections = parseMediaSections(plan.offer);
    assert.deepEqual(
      sections.map((s) => s.codecs.map((c) => c.name)),
      [['H264'], ['OPUS']],
    );
  });

  void test('a VP8 publisher: VP8 only', () => {
    const plan = planViewer(CHROMIUM, inspectViewerOffer(CHROMIUM), source(VP8, false));
    assert.equal(plan.video?.offered.payloadType, 96);
    assert.equal(plan.audio, undefined, 'the source has no audio');
    assert.deepEqual(
      parseMediaSections(plan.offer)[0]!.codecs.map((c) => c.name),
      ['VP8'],
    );
  });

  void test('a viewer that cannot receive the video → unsupported_offer naming the codec', () => {
    const vp8Only = handOffer([
      { kind: 'video', codecs: ['VP8/90000'], direction: 'recvonly' },
      { kind: 'audio', codecs: ['opus/48000/2'], direction: 'recvonly' },
    ]);
    assert.throws(
      () => planViewer(vp8Only, inspectViewerOffer(vp8Only), source()),
      (err) =>
        code('unsupported_offer')(err) &&
        /sends H\.264 and Opus.*cannot receive H\.264/.test((err as Error).message),
    );
  });

  void test('an audio-only viewer is served the audio alone; a video-only source has nothing for it', () => {
    const audioOnly = handOffer([{ kind: 'audio', codecs: ['opus/48000/2'], direction: 'recvonly' }]);
    const plan = planViewer(audioOnly, inspectViewerOffer(audioOnly), source());
    assert.equal(plan.video, undefined);
    assert.equal(plan.audio?.offered.payloadType, 96);
    assert.throws(
      () => planViewer(audioOnly, inspectViewerOffer(audioOnly), source(H264, false)),
      (err) => code('unsupported_offer')(err) && /none of it/.test((err as Error).message),
    );
  });
});
