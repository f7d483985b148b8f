/**
 * werift peer connections as onair makes them: the codecs a publisher may send
 * or a viewer receives, the configured ICE settings, and the complete answer
 * (every candidate gathered, loopback only where configured).
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type { IceServer } from '../../config.ts';
import { filterCandidates } from '../../media/sdp.ts';
import type { ViewerPlan } from '../viewer-plan.ts';

export interface PeerSettings {
  iceServers: IceServer[];
  publicIp: string | undefined;
  portRange: [number, number] | undefined;
  /** Gather and answer loopback candidates only (tests, single-machine setups). */
  loopbackOnly: boolean;
}

/** PLI must be declared or werift ignores it (and browsers send few keyframes unprompted). */
const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** A publisher's peer connection: the codecs onair receives. */
export function publisherPeerConnection(o: PeerSettings, videoCodec: 'H264' | 'VP8'): RTCPeerConnection {
  const video =
    videoCodec === 'H264'
      ? new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: FEEDBACK,
          parameters: 'packetization-mode=1;level-asymmetry-allowed=1',
        })
      : new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: FEEDBACK });
  return peerConnection(o, {
    video: [video],
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
  });
}

/** A viewer's peer connection: exactly the codecs of its plan (the source's, as the viewer offered them). */
export function viewerPeerConnection(o: PeerSettings, plan: ViewerPlan): RTCPeerConnection {
  const codec = (t: NonNullable<ViewerPlan['video']>) =>
    new RTCRtpCodecParameters({
      mimeType: `${t.kind}/${t.offered.name === 'OPUS' ? 'opus' : t.offered.name}`,
      clockRate: t.offered.clockRate,
      ...(t.kind === 'audio' ? { channels: 2 } : { rtcpFeedback: FEEDBACK }),
      ...(t.offered.fmtp ? { parameters: t.offered.fmtp } : {}),
    });
  return peerConnection(o, {
    video: plan.video ? [codec(plan.video)] : [],
    audio: plan.audio ? [codec(plan.audio)] : [],
  });
}

function peerConnection(
  o: PeerSettings,
  codecs: { video: RTCRtpCodecParameters[]; audio: RTCRtpCodecParameters[] },
): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs,
    iceServers: o.iceServers,
    icePortRange: o.portRange,
    iceUseIpv6: false,
    iceUseTcp: false,
    ...(o.loopbackOnly
      ? { iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] }
      : o.publicIp
        ? { iceAdditionalHostAddresses: [o.publicIp] }
        : {}),
  });
}

/** Answers the remote offer already set: the answer with every candidate gathered (or what 3 s gave). */
export async function localAnswer(pc: RTCPeerConnection, loopbackOnly: boolean): Promise<string> {
  await pc.setLocalDescription(await pc.createAnswer());
  await gatheringComplete(pc, 3000);
  const sdp = pc.localDescription?.sdp ?? '';
  return loopbackOnly ? filterCandidates(sdp, (a) => a === '127.0.0.1') : sdp;
}

/** Waits until ICE gathering completes (all candidates go in the answer), or the timeout. */
export async function gatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}
