/**
 * A WHIP publisher running inside a Chromium page: the fake camera and microphone
 * (getUserMedia), one sendonly transceiver each, a non-trickle offer POSTed to the
 * channel's WHIP URL with its stream key. The RTCPeerConnection stays in the page
 * (window.__onairWhip) so the test can end the session and publish again.
 */
import type { Page } from '@playwright/test';

export interface PublishResult {
  status: number;
  /** Absolute session URL from the Location header. */
  location: string;
  etag: string | null;
  offer: string;
  answer: string;
  /** Video codec the browser negotiated (from the answer), e.g. "H264" or "VP8". */
  videoCodec: string;
  /** ms from the WHIP POST until the peer connection reached "connected". */
  connectMs: number;
  /** Wall-clock time (Date.now() in the page) just before the WHIP POST was sent. */
  postedAt: number;
  /** Wall-clock time (Date.now() in the page) of the 201 response. */
  createdAt: number;
}

interface WhipWindow {
  __onairWhip?: { pc: RTCPeerConnection; stream: MediaStream; location: string; streamKey: string };
}

/** Publishes the fake camera; throws (with the server's status and body) unless WHIP answers 201 and ICE connects. */
export async function publishFakeCamera(
  page: Page,
  whipUrl: string,
  streamKey: string,
): Promise<PublishResult> {
  return page.evaluate(
    async ({ whipUrl, streamKey }) => {
      const w = window as unknown as WhipWindow;
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: 1280, height: 720 },
        audio: true,
      });
      const pc = new RTCPeerConnection();
      const video = stream.getVideoTracks()[0];
      const audio = stream.getAudioTracks()[0];
      if (!video || !audio) throw new Error('getUserMedia returned no video or no audio track');
      pc.addTransceiver(video, { direction: 'sendonly', streams: [stream] });
      pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve, reject) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        const timer = setTimeout(() => reject(new Error('ICE gathering did not complete in 10 s')), 10_000);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const offer = pc.localDescription?.sdp ?? '';
      const posted = Date.now();
      const res = await fetch(whipUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${streamKey}` },
        body: offer,
      });
      const createdAt = Date.now();
      const answer = await res.text();
      if (res.status !== 201) {
        pc.close();
        stream.getTracks().forEach((t) => t.stop());
        throw new Error(`WHIP POST answered ${res.status}: ${answer}`);
      }
      const locationHeader = res.headers.get('Location');
      if (!locationHeader) throw new Error('WHIP 201 without a Location header');
      const location = new URL(locationHeader, whipUrl).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `peer connection not connected after 15 s (state ${pc.connectionState}, ICE ${pc.iceConnectionState})`,
              ),
            ),
          15_000,
        );
        const check = (): void => {
          if (pc.connectionState === 'connected') {
            clearTimeout(timer);
            resolve();
          } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
            clearTimeout(timer);
            reject(new Error(`peer connection ${pc.connectionState}`));
          }
        };
        pc.addEventListener('connectionstatechange', check);
        check();
      });
      w.__onairWhip = { pc, stream, location, streamKey };
      // The first video payload type in the answer's m=video line names the codec.
      const mVideo = /^m=video \d+ [A-Z/]+ (\d+)/m.exec(answer);
      const pt = mVideo?.[1];
      const rtpmap = pt ? new RegExp(`^a=rtpmap:${pt} ([A-Za-z0-9]+)/`, 'm').exec(answer) : null;
      return {
        status: res.status,
        location,
        etag: res.headers.get('ETag'),
        offer,
        answer,
        videoCodec: rtpmap?.[1] ?? 'unknown',
        connectMs: Date.now() - posted,
        postedAt: posted,
        createdAt,
      };
    },
    { whipUrl, streamKey },
  );
}

/**
 * Ends the page's WHIP session: DELETE on the session URL with the stream key (RFC 9725
 * §4.5: requests to the session URL carry the same token), then closes the peer
 * connection. Returns the DELETE status.
 */
export async function unpublish(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const w = window as unknown as WhipWindow;
    const s = w.__onairWhip;
    if (!s) throw new Error('no WHIP session in this page');
    const res = await fetch(s.location, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${s.streamKey}` },
    });
    s.pc.close();
    s.stream.getTracks().forEach((t) => t.stop());
    delete w.__onairWhip;
    return res.status;
  });
}

/** Outbound video RTP stats of a publisher (what Chromium actually sends). */
export interface PublisherVideoStats {
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
  bytesSent?: number;
  codec?: string;
  /** Keyframes encoded so far, and keyframe requests (PLI) received from the server. */
  keyFramesEncoded?: number;
  pliCount?: number;
}

/** Outbound video RTP stats of the page's publisher (what Chromium actually sends). */
export async function publisherVideoStats(page: Page): Promise<PublisherVideoStats> {
  return page.evaluate(async () => {
    const s = (window as unknown as WhipWindow).__onairWhip;
    if (!s) return {};
    const report = await s.pc.getStats();
    let out: PublisherVideoStats = {};
    const codecs = new Map<string, string>();
    report.forEach((v: { type: string; id: string; mimeType?: string }) => {
      if (v.type === 'codec' && v.mimeType) codecs.set(v.id, v.mimeType);
    });
    report.forEach(
      (v: {
        type: string;
        kind?: string;
        frameWidth?: number;
        frameHeight?: number;
        framesPerSecond?: number;
        bytesSent?: number;
        codecId?: string;
        keyFramesEncoded?: number;
        pliCount?: number;
      }) => {
        if (v.type === 'outbound-rtp' && v.kind === 'video') {
          out = {
            frameWidth: v.frameWidth,
            frameHeight: v.frameHeight,
            framesPerSecond: v.framesPerSecond,
            bytesSent: v.bytesSent,
            codec: v.codecId ? codecs.get(v.codecId) : undefined,
            keyFramesEncoded: v.keyFramesEncoded,
            pliCount: v.pliCount,
          };
        }
      },
    );
    return out;
  });
}
