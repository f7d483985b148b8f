/**
 * A bare WHEP viewer inside a Chromium page: recvonly video and audio, a
 * non-trickle offer POSTed to the channel's WHEP URL, the stream on a <video>.
 * The peer connection stays in the page (window.__onairWhep) so the test can
 * read getStats() and end the session.
 */
import type { Page } from '@playwright/test';

export interface WhepResult {
  status: number;
  answer: string;
  location: string | null;
  /** ms from just before the POST to its 201. */
  postMs: number;
  /** ms from just before the POST to the first decoded video frame. */
  firstFrameMs: number;
}

export interface ReceiveStats {
  connectionState: string;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  videoCodec: string;
  audioPackets: number;
  audioSamples: number;
  audioEnergy: number;
  jitterBufferMs: number | undefined;
}

interface WhepWindow {
  __onairWhep?: { pc: RTCPeerConnection; video: HTMLVideoElement; location: string };
}

/** Starts a viewer; resolves at its first decoded frame (throws unless WHEP answers 201 within 20 s). */
export async function watchWhepInPage(page: Page, whepUrl: string): Promise<WhepResult> {
  return page.evaluate(async (url) => {
    const w = window as unknown as WhepWindow;
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.style.cssText = 'width:640px;height:360px;background:#000;display:block';
    document.body.replaceChildren(video);
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => stream.addTrack(e.track));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(resolve, 3000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription?.sdp ?? '',
    });
    const postMs = performance.now() - t0;
    const answer = await res.text();
    if (res.status !== 201) {
      pc.close();
      throw new Error(`WHEP POST answered ${res.status}: ${answer}`);
    }
    const location = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    video.srcObject = stream;
    void video.play();
    w.__onairWhep = { pc, video, location: new URL(location ?? '', url).href };
    const firstFrameMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no frame decoded in 20 s (${pc.connectionState})`)),
        20_000,
      );
      video.requestVideoFrameCallback(() => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
    return { status: res.status, answer, location, postMs, firstFrameMs };
  }, whepUrl);
}

export async function whepStats(page: Page): Promise<ReceiveStats> {
  return page.evaluate(async () => {
    const s = (window as unknown as WhepWindow).__onairWhep;
    if (!s) throw new Error('no WHEP viewer in this page');
    const out: ReceiveStats = {
      connectionState: s.pc.connectionState,
      framesDecoded: 0,
      frameWidth: 0,
      frameHeight: 0,
      videoCodec: '',
      audioPackets: 0,
      audioSamples: 0,
      audioEnergy: 0,
      jitterBufferMs: undefined,
    };
    const report = await s.pc.getStats();
    const codecs = new Map<string, string>();
    report.forEach((v: { type: string; id: string; mimeType?: string }) => {
      if (v.type === 'codec' && v.mimeType) codecs.set(v.id, v.mimeType);
    });
    report.forEach((v: Record<string, unknown>) => {
      if (v.type !== 'inbound-rtp') return;
      const n = (k: string) => (typeof v[k] === 'number' ? v[k] : 0);
      if (v.kind === 'video') {
        out.framesDecoded = n('framesDecoded');
        out.frameWidth = n('frameWidth');
        out.frameHeight = n('frameHeight');
        out.videoCodec = codecs.get(String(v.codecId)) ?? '';
        const emitted = n('jitterBufferEmittedCount');
        if (emitted > 0) out.jitterBufferMs = (n('jitterBufferDelay') / emitted) * 1000;
      } else if (v.kind === 'audio') {
        out.audioPackets = n('packetsReceived');
        out.audioSamples = n('totalSamplesReceived');
        out.audioEnergy = n('totalAudioEnergy');
      }
    });
    return out;
  });
}

/**
 * The loudest sample of the received audio over `ms`, read through WebAudio (the
 * fake microphone beeps, so a working path hears more than silence).
 */
export async function whepAudioPeak(page: Page, ms = 2500): Promise<number> {
  return page.evaluate(async (ms) => {
    const s = (window as unknown as WhepWindow).__onairWhep;
    if (!s) throw new Error('no WHEP viewer in this page');
    const stream = s.video.srcObject as MediaStream;
    const ctx = new AudioContext();
    await ctx.resume();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(new MediaStream(stream.getAudioTracks())).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let peak = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      analyser.getFloatTimeDomainData(buf);
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
      await new Promise((r) => setTimeout(r, 20));
    }
    await ctx.close();
    return peak;
  }, ms);
}

/** DELETE on the session URL, then close; returns the DELETE status. */
export async function stopWhepInPage(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const w = window as unknown as WhepWindow;
    const s = w.__onairWhep;
    if (!s) throw new Error('no WHEP viewer in this page');
    const res = await fetch(s.location, { method: 'DELETE' });
    s.pc.close();
    delete w.__onairWhep;
    return res.status;
  });
}
