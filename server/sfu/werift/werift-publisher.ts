/** A WebRTC publisher on werift: one peer connection, a video and an optional audio track. */
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver, RtpPacket } from 'werift';
import type { Logger } from '../../log.ts';
import { MediaError } from '../../media/errors.ts';
import { addBitrateHints, parseMediaSections, withBundleOnlyPorts } from '../../media/sdp.ts';
import type { MediaKind, RtpCodec, SourceTrack } from '../../media/source.ts';
import type { PublisherOptions } from '../engine.ts';
import { PublisherBase, type PublisherTimeouts } from '../publisher-base.ts';
import { localAnswer } from './peer.ts';
import { enlargeReceiveBuffers, useKeyObjects } from './tuning.ts';

/** Room for a keyframe burst while the event loop forwards the previous packets to every viewer. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface WeriftPublisherOptions extends PublisherTimeouts {
  log: Logger;
  /** Answer only loopback candidates (tests, single-machine setups). */
  loopbackOnly: boolean;
}

export class WeriftPublisher extends PublisherBase {
  readonly engine = 'werift';

  readonly #pc: RTCPeerConnection;
  readonly #loopbackOnly: boolean;
  readonly #ssrcs: Record<MediaKind, number | undefined> = { video: undefined, audio: undefined };
  #videoTransceiver: RTCRtpTransceiver | undefined;
  #videoTrack: MediaStreamTrack | undefined;

  constructor(pc: RTCPeerConnection, opts: WeriftPublisherOptions) {
    super(opts.log, opts);
    this.#pc = pc;
    this.#loopbackOnly = opts.loopbackOnly;
  }

  async negotiate(p: PublisherOptions): Promise<void> {
    const pc = this.#pc;
    pc.onTrack.subscribe((track) => this.#attachTrack(track));
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    await pc.setRemoteDescription({ type: 'offer', sdp: withBundleOnlyPorts(p.offer) });
    for (const t of pc.getTransceivers()) {
      if (t.kind === 'video') this.#videoTransceiver ??= t;
      // DTLS server (a=setup:passive): the publisher starts the handshake as soon as ICE is up,
      // where werift as the client would first wait a fixed 100 ms.
      t.receiver.dtlsTransport.role = 'server';
    }
    this.answer = addBitrateHints(await localAnswer(pc, this.#loopbackOnly), p.bitrate);
    this.negotiated(negotiatedCodecs(this.answer, p.withAudio));
    this.#refreshTracks();
  }

  #refreshTracks(): void {
    const tracks: SourceTrack[] = [
      { id: 'video', kind: 'video', codec: this.codecs.video, ssrc: this.#ssrcs.video },
    ];
    if (this.codecs.audio)
      tracks.push({ id: 'audio', kind: 'audio', codec: this.codecs.audio, ssrc: this.#ssrcs.audio });
    this.tracks = tracks;
  }

  #attachTrack(track: MediaStreamTrack): void {
    const kind: MediaKind = track.kind === 'video' ? 'video' : 'audio';
    if (kind === 'video') this.#videoTrack = track;
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (this.state === 'ended') return;
      this.heard();
      const buf = rtp.serialize();
      if (this.#ssrcs[kind] !== rtp.header.ssrc) {
        this.#ssrcs[kind] = rtp.header.ssrc;
        this.#refreshTracks();
      }
      this.received(kind, buf, rtp.header.sequenceNumber, rtp.payload);
    });
  }

  #onConnectionState(state: string): void {
    if (this.state === 'ended') return;
    if (this.timers.ice(state, this.disconnectTimeoutMs) && this.state !== 'live') {
      for (const t of this.#pc.getTransceivers()) {
        useKeyObjects(t.receiver.dtlsTransport);
        enlargeReceiveBuffers(t.receiver.dtlsTransport, RECEIVE_BUFFER_BYTES);
      }
      this.connected();
    }
  }

  protected sendKeyframeRequest(): void {
    const ssrc = this.#videoTrack?.ssrc;
    if (this.state !== 'live' || ssrc === undefined || !this.#videoTransceiver) return;
    this.#videoTransceiver.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  }

  protected override release(reason: string): void {
    super.release(reason);
    this.#pc.close().catch((err: unknown) => this.log.warn({ err }, 'peer connection close failed'));
  }
}

/** The codecs the answer settled on: the first primary codec of each section. */
function negotiatedCodecs(
  answer: string,
  withAudio: boolean,
): { video: RtpCodec; audio: RtpCodec | undefined } {
  const sections = parseMediaSections(answer);
  const pick = (kind: MediaKind): RtpCodec | undefined => {
    const s = sections.find((m) => m.kind === kind && m.inUse);
    const c = s?.codecs.find((x) => !['RTX', 'RED', 'ULPFEC'].includes(x.name));
    if (!c) return undefined;
    return {
      kind,
      name: c.name,
      payloadType: c.payloadType,
      clockRate: c.clockRate,
      ...(kind === 'audio' ? { channels: 2 } : {}),
      fmtp: c.fmtp,
    };
  };
  const video = pick('video');
  if (!video) throw new MediaError('unsupported_offer', 'no video codec could be agreed with the publisher');
  return { video, audio: withAudio ? pick('audio') : undefined };
}
