/**
 * SDP ↔ mediasoup RtpParameters (server/sfu/mediasoup/sdp-translation.ts), on
 * real offers: Chromium (captured with the fake camera), werift (made here),
 * and Firefox, OBS (libdatachannel) and GStreamer (webrtcbin) written from the
 * shapes those clients send. Pure: runs everywhere, no mediasoup needed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toOnairError } from '../../server/http/http.ts';
import { MediaError } from '../../server/media/errors.ts';
import {
  inspectOffer,
  inspectViewerOffer,
  parseMediaSections,
  withBundleOnlyPorts,
} from '../../server/media/sdp.ts';
import { parseSdp } from '../../server/media/sdp-parser.ts';
import type { IceCandidate, RtpParameters } from '../../server/sfu/mediasoup/mediasoup-api.ts';
import {
  consumerCapabilities,
  feedKey,
  fmtpToParameters,
  offerDtlsParameters,
  planPublisher,
  publisherAnswer,
  routerCodecsFor,
  viewerAnswer,
  type LocalTransport,
  type ViewerTrackPlan,
} from '../../server/sfu/mediasoup/sdp-translation.ts';
import { planViewer } from '../../server/sfu/viewer-plan.ts';
import { H264, OPUS, VP8 } from '../helpers/fake-media.ts';
import { createViewerPeer } from '../helpers/whep-viewer.ts';
import { weriftOffer } from '../helpers/sdp-offers.ts';

const GOLDEN = path.join(import.meta.dirname, '..', 'golden');
const offer = (name: string) => readFileSync(path.join(GOLDEN, 'offers', `${name}.sdp`), 'utf8');
const CHROMIUM_WHEP = readFileSync(path.join(GOLDEN, 'chromium-whep-offer.sdp'), 'utf8');

const candidates: IceCandidate[] = [
  {
    foundation: 'udpcandidate',
    priority: 1076302079,
    address: '127.0.0.1',
    protocol: 'udp',
    port: 40001,
    type: 'host',
  },
  {
    foundation: 'tcpcandidate',
    priority: 1076276479,
    address: '127.0.0.1',
    protocol: 'tcp',
    port: 40002,
    type: 'host',
    tcpType: 'passive',
  },
];
const LOCAL: LocalTransport = {
  iceParameters: {
    usernameFragment: 'msufrag0123456789',
    password: 'mspassword0123456789abcdef',
    iceLite: true,
  },
  iceCandidates: candidates,
  dtlsParameters: {
    role: 'auto',
    fingerprints: [
      { algorithm: 'sha-384', value: 'AA:BB' },
      {
        algorithm: 'sha-256',
        value:
          '01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF',
      },
    ],
  },
};

function code(c: string) {
  // A media error with that code, which the HTTP edge answers with the same code.
  return (err: unknown) => err instanceof MediaError && err.code === c && toOnairError(err).code === c;
}

/** The answer's sections, parsed back with the server's own parser. */
function answerSections(answer: string) {
  return parseMediaSections(answer);
}

interface Expect {
  name: string;
  sdp: () => string | Promise<string>;
  videoCodec: 'H264' | 'VP8';
  videoPt: number;
  rtxPt: number | undefined;
  ssrc: number | 'any';
  rtxSsrc: number | undefined | 'any';
  audioPt: number | undefined;
  audioSsrc: number | 'any' | undefined;
  videoMid: string;
}

let werift: { sdp: string; close(): Promise<void> } | undefined;
after(async () => {
  await werift?.close();
});

const CASES: Expect[] = [
  {
    name: 'Chromium (fake camera)',
    sdp: () => offer('chromium-whip'),
    videoCodec: 'H264',
    // Chromium lists VP8 first; the first H.264 with packetization-mode=1 is 102 (42001f), RTX 103.
    videoPt: 102,
    rtxPt: 103,
    ssrc: 'any',
    rtxSsrc: 'any',
    audioPt: 111,
    audioSsrc: 208572239,
    videoMid: '1',
  },
  {
    name: 'Firefox',
    sdp: () => offer('firefox-whip'),
    videoCodec: 'H264',
    videoPt: 126,
    rtxPt: 127,
    ssrc: 3953452140,
    rtxSsrc: 1340520093,
    audioPt: 109,
    audioSsrc: 2216341377,
    videoMid: '1',
  },
  {
    name: 'OBS (libdatachannel, session-level ICE and fingerprint, no RTX)',
    sdp: () => offer('obs-whip'),
    videoCodec: 'H264',
    videoPt: 96,
    rtxPt: undefined,
    ssrc: 3010142232,
    rtxSsrc: undefined,
    audioPt: 111,
    audioSsrc: 3010142231,
    videoMid: '1',
  },
  {
    name: 'GStreamer (webrtcbin, named mids, upper-case OPUS)',
    sdp: () => offer('gstreamer-whip'),
    videoCodec: 'H264',
    videoPt: 96,
    rtxPt: 97,
    ssrc: 1847220381,
    rtxSsrc: 3625110746,
    audioPt: 111,
    audioSsrc: 2590166917,
    videoMid: 'video0',
  },
  {
    name: 'GStreamer 1.22 (captured: max-bundle, audio on port 0 with a=bundle-only, no RTX)',
    sdp: () => offer('gstreamer-max-bundle-whip'),
    videoCodec: 'H264',
    videoPt: 102,
    rtxPt: undefined,
    ssrc: 2223682396,
    rtxSsrc: undefined,
    audioPt: 111,
    audioSsrc: 2551392047,
    videoMid: 'video0',
  },
  {
    name: 'werift (VP8)',
    sdp: async () => (werift = await weriftOffer({ codec: 'VP8' })).sdp,
    videoCodec: 'VP8',
    videoPt: -1, // read from the offer below
    rtxPt: undefined,
    ssrc: 'any',
    rtxSsrc: undefined,
    audioPt: -1,
    audioSsrc: 'any',
    videoMid: 'any',
  },
];

describe('WHIP offer → producer RtpParameters and answer', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const sdp = await c.sdp();
      const summary = inspectOffer(sdp, { requireH264: c.videoCodec === 'H264' });
      assert.equal(summary.videoCodec, c.videoCodec);
      const plan = planPublisher(sdp, { videoCodec: c.videoCodec, withAudio: summary.audio !== undefined });
      const v = plan.video.rtpParameters;
      const primary = v.codecs[0]!;
      assert.equal(primary.mimeType, `video/${c.videoCodec}`);
      const videoPt =
        c.videoPt === -1 ? summary.video.codecs.find((x) => x.name === 'VP8')!.payloadType : c.videoPt;
      assert.equal(primary.payloadType, videoPt);
      assert.equal(primary.clockRate, 90000);
      if (c.videoCodec === 'H264') {
        assert.equal(primary.parameters?.['packetization-mode'], 1);
        assert.equal(typeof primary.parameters?.['profile-level-id'], 'string');
      }
      // Feedback mediasoup acts on, and nothing it does not know.
      const fb = (primary.rtcpFeedback ?? []).map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`);
      assert.ok(fb.includes('nack pli') || c.name.startsWith('werift'), `PLI declared: ${fb.join(',')}`);
      assert.ok(fb.every((f) => ['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc'].includes(f)));
      const rtx = v.codecs.find((x) => x.mimeType === 'video/rtx');
      assert.equal(rtx?.payloadType, c.rtxPt);
      if (rtx) assert.equal(rtx.parameters?.apt, videoPt);
      const enc = v.encodings![0]!;
      if (c.ssrc === 'any') assert.ok(Number.isInteger(enc.ssrc) && enc.ssrc! > 0);
      else assert.equal(enc.ssrc, c.ssrc);
      if (c.rtxSsrc === 'any') assert.ok(enc.rtx && enc.rtx.ssrc > 0 && enc.rtx.ssrc !== enc.ssrc);
      else assert.equal(enc.rtx?.ssrc, c.rtxSsrc);
      if (c.videoMid !== 'any') assert.equal(v.mid, c.videoMid);
      assert.ok(v.rtcp?.cname, 'cname carried over');
      for (const e of v.headerExtensions ?? [])
        assert.ok(!e.uri.includes('rtp-stream-id'), 'no RID extensions');
      if (c.audioPt !== undefined) {
        const a = plan.audio!.rtpParameters;
        assert.equal(a.codecs[0]!.mimeType, 'audio/opus');
        if (c.audioPt !== -1) assert.equal(a.codecs[0]!.payloadType, c.audioPt);
        assert.equal(a.codecs[0]!.channels, 2);
        if (c.audioSsrc === 'any') assert.ok(a.encodings![0]!.ssrc! > 0);
        else assert.equal(a.encodings![0]!.ssrc, c.audioSsrc);
        assert.equal(plan.audio!.codec.name, 'OPUS');
      }
      // The publisher is the DTLS client: it offered actpass.
      assert.equal(plan.remoteDtls.role, 'client');
      assert.ok(plan.remoteDtls.fingerprints.some((f) => f.algorithm === 'sha-256'));

      const answer = publisherAnswer(plan, LOCAL, 'session1');
      assert.match(answer, /^v=0\r\n/);
      assert.match(answer, /\r\na=ice-lite\r\n/);
      assert.match(answer, /a=setup:passive/);
      assert.match(answer, /a=fingerprint:sha-256 01:23/);
      assert.match(answer, /a=ice-ufrag:msufrag0123456789/);
      assert.match(answer, /a=candidate:udpcandidate 1 udp 1076302079 127\.0\.0\.1 40001 typ host\r\n/);
      assert.match(
        answer,
        /a=candidate:tcpcandidate 1 tcp 1076276479 127\.0\.0\.1 40002 typ host tcptype passive/,
      );
      const offered = parseSdp(sdp).sections;
      const sections = answerSections(answer);
      // As many sections as offered, in order, with the same mids.
      assert.equal(sections.length, offered.length);
      sections.forEach((s, i) => {
        assert.equal(s.mid, offered[i]!.mid);
        assert.equal(s.kind, offered[i]!.kind);
      });
      const vs = sections.find((s) => s.kind === 'video')!;
      assert.equal(vs.direction, 'recvonly');
      assert.deepEqual(
        vs.codecs.map((x) => x.payloadType),
        v.codecs.map((x) => x.payloadType),
        'only the chosen codec and its RTX are answered',
      );
      // The BUNDLE group names the accepted sections.
      const bundle = /a=group:BUNDLE (.*)\r\n/.exec(answer)![1]!.split(' ');
      assert.ok(bundle.includes(plan.video.mid));
      if (plan.audio) {
        // Audio rides the bundle (bundle-only in the offer is not a rejection).
        assert.ok(bundle.includes(plan.audio.mid));
        assert.equal(sections.find((x) => x.kind === 'audio')!.inUse, true);
      }
      // What the answer says must be what the server's own WHIP checks accept.
      assert.doesNotThrow(() => parseMediaSections(answer));
    });
  }

  test('RID/simulcast-only video (no a=ssrc) is matched by MID; without the MID extension it is refused', () => {
    const lines = offer('chromium-whip')
      .split('\r\n')
      .filter((l) => !l.startsWith('a=ssrc'));
    const plan = planPublisher(lines.join('\r\n'), { videoCodec: 'H264', withAudio: true });
    assert.deepEqual(plan.video.rtpParameters.encodings, [{}]);
    assert.equal(plan.video.rtpParameters.mid, '1');
    const noMid = lines.filter((l) => !l.includes('sdes:mid')).join('\r\n');
    assert.throws(
      () => planPublisher(noMid, { videoCodec: 'H264', withAudio: true }),
      code('unsupported_offer'),
    );
  });

  test('an offerer that insists on a=setup:passive gets a=setup:active', () => {
    const sdp = offer('obs-whip').replace('a=setup:actpass', 'a=setup:passive');
    const plan = planPublisher(sdp, { videoCodec: 'H264', withAudio: true });
    assert.equal(plan.remoteDtls.role, 'server');
    assert.match(publisherAnswer(plan, LOCAL, 's'), /a=setup:active/);
  });

  test('a VP8-only offer on a passthrough channel, and an offer without a fingerprint, are refused', () => {
    const vp8Only = offer('obs-whip').replace('H264/90000', 'VP8/90000');
    assert.throws(
      () => planPublisher(vp8Only, { videoCodec: 'H264', withAudio: true }),
      code('unsupported_offer'),
    );
    const noFp = offer('obs-whip').replace(/a=fingerprint:.*\r?\n/, '');
    assert.throws(
      () => planPublisher(noFp, { videoCodec: 'H264', withAudio: true }),
      code('unsupported_offer'),
    );
    assert.throws(() => parseSdp('hello'), code('invalid_sdp'));
  });

  test('fmtp values: numbers as numbers, profile-level-id always text', () => {
    assert.deepEqual(
      fmtpToParameters('profile-level-id=640032;packetization-mode=1;level-asymmetry-allowed=1'),
      {
        'profile-level-id': '640032',
        'packetization-mode': 1,
        'level-asymmetry-allowed': 1,
      },
    );
    assert.deepEqual(fmtpToParameters('minptime=10;useinbandfec=1;x=abc'), {
      minptime: 10,
      useinbandfec: 1,
      x: 'abc',
    });
  });
});

describe('WHEP: router capabilities and a viewer offer → consumer parameters and answer', () => {
  const source = (video: typeof H264) => ({
    tracks: [
      { id: 'video', kind: 'video' as const, codec: video, ssrc: 1 },
      { id: 'audio', kind: 'audio' as const, codec: OPUS, ssrc: 2 },
    ],
  });

  function viewerTracks(sdp: string, video = H264): ViewerTrackPlan[] {
    const plan = planViewer(sdp, inspectViewerOffer(sdp), source(video));
    return [plan.video, plan.audio]
      .filter((t) => t !== undefined)
      .map((t) => ({ kind: t.kind, index: t.index, codec: t.track.codec, offered: t.offered }));
  }

  /** What mediasoup's consumer would carry: the router's codec (the viewer's payload type) and an SSRC. */
  function consumed(t: ViewerTrackPlan, ssrc: number): RtpParameters {
    const caps = consumerCapabilities(parseSdp(CHROMIUM_WHEP), t);
    const c = routerCodecsFor([{ kind: t.kind, codec: t.codec, payloadType: t.offered.payloadType }])[0]!;
    return {
      codecs: [
        {
          mimeType: c.mimeType,
          payloadType: c.preferredPayloadType!,
          clockRate: c.clockRate,
          ...(c.channels ? { channels: c.channels } : {}),
          parameters: c.parameters ?? {},
          rtcpFeedback: caps.codecs?.[0]?.rtcpFeedback ?? [],
        },
      ],
      encodings: [{ ssrc }],
      rtcp: { cname: 'onair', reducedSize: true },
    };
  }

  for (const [name, sdp] of [
    ['Chromium', () => CHROMIUM_WHEP],
    ['Firefox', () => offer('firefox-whep')],
  ] as const) {
    test(`${name}: the feed router uses the viewer's payload types; the answer sends on them`, () => {
      const text = sdp();
      const tracks = viewerTracks(text);
      const video = tracks.find((t) => t.kind === 'video')!;
      const audio = tracks.find((t) => t.kind === 'audio')!;
      const feedTracks = tracks.map((t) => ({
        kind: t.kind,
        codec: t.codec,
        payloadType: t.offered.payloadType,
      }));
      const codecs = routerCodecsFor(feedTracks);
      assert.deepEqual(
        codecs.map((c) => c.preferredPayloadType),
        tracks.map((t) => t.offered.payloadType),
      );
      assert.equal(codecs[0]!.mimeType, 'video/H264');
      assert.equal(codecs[0]!.parameters?.['packetization-mode'], 1);
      const parsed = parseSdp(text);
      const caps = consumerCapabilities(parsed, video);
      assert.equal(caps.codecs?.[0]?.preferredPayloadType, video.offered.payloadType);
      const fb = caps.codecs[0].rtcpFeedback!.map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`);
      assert.ok(fb.includes('nack') && fb.includes('nack pli'), fb.join(','));
      assert.ok(!fb.includes('transport-cc') && !fb.includes('goog-remb'));
      assert.deepEqual(caps.headerExtensions, []);
      const dtls = offerDtlsParameters(parsed);
      assert.equal(dtls.role, 'client');

      const answer = viewerAnswer(
        parsed,
        [
          { track: video, rtpParameters: consumed(video, 1111) },
          { track: audio, rtpParameters: consumed(audio, 2222) },
        ],
        LOCAL,
        'viewer-session-0001',
      );
      const sections = parseMediaSections(answer);
      assert.equal(sections.length, parsed.sections.length);
      const vs = sections.find((s) => s.kind === 'video')!;
      assert.equal(vs.direction, 'sendonly');
      assert.deepEqual(
        vs.codecs.map((c) => c.payloadType),
        [video.offered.payloadType],
      );
      // Written with the viewer's own fmtp for that payload type.
      assert.equal(vs.codecs[0]!.fmtp, video.offered.fmtp);
      assert.match(answer, /a=ssrc:1111 cname:onair/);
      assert.match(answer, /a=ssrc:2222 cname:onair/);
      assert.match(answer, /a=msid:onair-viewer-s onair-viewer-s-video/);
      assert.match(answer, /a=setup:passive/);
      assert.match(answer, /a=end-of-candidates/);
    });
  }

  test('a werift viewer offer (VP8 source): VP8 on its payload type', async () => {
    const { pc, offer: sdp } = await createViewerPeer({ videoCodecs: ['H264', 'VP8'] });
    try {
      const tracks = viewerTracks(sdp, VP8);
      const video = tracks.find((t) => t.kind === 'video')!;
      assert.equal(video.offered.name, 'VP8');
      const codecs = routerCodecsFor([{ kind: 'video', codec: VP8, payloadType: video.offered.payloadType }]);
      assert.equal(codecs[0]!.mimeType, 'video/VP8');
      const answer = viewerAnswer(
        sdp,
        [{ track: video, rtpParameters: consumed(video, 4242) }],
        LOCAL,
        'werift-viewer',
      );
      const sections = parseMediaSections(answer);
      const vs = sections.find((s) => s.kind === 'video')!;
      assert.deepEqual(
        vs.codecs.map((c) => c.name),
        ['VP8'],
      );
      // The audio section it also offered is rejected: port 0, inactive.
      const as = sections.find((s) => s.kind === 'audio')!;
      assert.equal(as.inUse, false);
    } finally {
      await pc.close();
    }
  });

  test('feeds are shared by consumers that expect the same payload types, and only by those', () => {
    const a = feedKey([
      { kind: 'video', codec: H264, payloadType: 102 },
      { kind: 'audio', codec: OPUS, payloadType: 111 },
    ]);
    const b = feedKey([
      { kind: 'video', codec: H264, payloadType: 102 },
      { kind: 'audio', codec: OPUS, payloadType: 111 },
    ]);
    const c = feedKey([
      { kind: 'video', codec: H264, payloadType: 126 },
      { kind: 'audio', codec: OPUS, payloadType: 109 },
    ]);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });
});

describe('bundle-only sections (JSEP max-bundle, as GStreamer offers)', () => {
  const sdp = offer('gstreamer-max-bundle-whip');

  test('a section on port 0 with a=bundle-only carries media; port 0 alone is rejected', () => {
    const summary = inspectOffer(sdp, { requireH264: true });
    assert.equal(summary.audio?.mid, 'audio1');
    const rejected = sdp.replace('a=bundle-only\r\n', '');
    assert.equal(inspectOffer(rejected, { requireH264: true }).audio, undefined);
  });

  test('withBundleOnlyPorts gives werift the same offer with port 9 and nothing else changed', () => {
    const out = withBundleOnlyPorts(sdp);
    assert.match(out, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111\r$/m);
    assert.doesNotMatch(out, /bundle-only/);
    assert.equal(out.split('\r\n').length, sdp.split('\r\n').length - 1);
    assert.equal(withBundleOnlyPorts(out), out, 'idempotent');
    const chromium = offer('chromium-whip');
    assert.equal(withBundleOnlyPorts(chromium), chromium, 'offers without bundle-only pass unchanged');
  });
});
