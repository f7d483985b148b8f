/**
 * Real-time playback figures (part of `npm run bench`), on loopback:
 *
 *   - WHEP POST → first decoded frame in Chromium, median of 5 (goal < 500 ms)
 *   - glass-to-glass delay through the SFU (goal < 150 ms): the publisher page
 *     draws the wall clock into a canvas as 24 black/white blocks, captures it
 *     (captureStream) and publishes it over WHIP; the viewer page reads the
 *     blocks back from each decoded frame and compares them with the clock at
 *     presentation (both pages share the machine's clock)
 *   - forwarding cost (bench/forwarding.ts): CPU per viewer at 2 Mbit/s, and how
 *     many viewers one process (one core at most) carries before it falls behind
 *
 *   node bench/whep.ts     # alone; bench/run.ts runs it after the live-path figures
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { startServer } from '../test/helpers/server.ts';
import { measureForwarding, type ForwardingResult } from './forwarding.ts';
import { median } from './median.ts';

const BITS = 24;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Publishes a canvas that shows the wall clock (ms mod 2^24) as 24 blocks, over WHIP. */
async function publishClock(page: Page, whipUrl: string, streamKey: string): Promise<string> {
  return page.evaluate(
    async ({ whipUrl, streamKey, BITS }) => {
      const canvas = document.createElement('canvas');
      canvas.width = 1280;
      canvas.height = 720;
      document.body.append(canvas);
      const ctx = canvas.getContext('2d')!;
      let frame = 0;
      const draw = () => {
        // Something that moves, so the encoder works as for a camera (about 1-2 Mbit/s).
        frame++;
        ctx.fillStyle = `hsl(${frame % 360} 40% 30%)`;
        ctx.fillRect(0, 0, 1280, 720);
        for (let i = 0; i < 40; i++) {
          ctx.fillStyle = `hsl(${(frame * 7 + i * 37) % 360} 70% 55%)`;
          ctx.fillRect((frame * 13 + i * 97) % 1200, 120 + ((frame * 5 + i * 53) % 560), 80, 40);
        }
        const t = Date.now() % 2 ** BITS;
        for (let b = 0; b < BITS; b++) {
          ctx.fillStyle = (t >> (BITS - 1 - b)) & 1 ? '#fff' : '#000';
          ctx.fillRect(16 + b * 52, 16, 48, 48);
        }
      };
      // A timer, not requestAnimationFrame: the publisher's tab is in the background, where
      // animation frames stop (and the canvas would send no frames at all).
      setInterval(draw, 1000 / 30);
      const stream = canvas.captureStream(30);
      const audio = new AudioContext();
      const osc = audio.createOscillator();
      const dest = audio.createMediaStreamDestination();
      osc.connect(dest);
      osc.start();
      const pc = new RTCPeerConnection();
      pc.addTransceiver(stream.getVideoTracks()[0]!, { direction: 'sendonly', streams: [stream] });
      pc.addTransceiver(dest.stream.getAudioTracks()[0]!, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((r) => {
        if (pc.iceGatheringState === 'complete') return r();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
        setTimeout(r, 3000);
      });
      const res = await fetch(whipUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${streamKey}` },
        body: pc.localDescription!.sdp,
      });
      const answer = await res.text();
      if (res.status !== 201) throw new Error(`WHIP ${res.status}: ${answer}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      (window as unknown as { __pub: RTCPeerConnection }).__pub = pc;
      return /^a=rtpmap:\d+ (\w+)\//m.exec(answer)?.[1] ?? '?';
    },
    { whipUrl, streamKey, BITS },
  );
}

/**
 * A WHEP viewer in the page: ms from just before the POST to the first decoded
 * frame, and then (for `clockMs`) the glass-to-glass delay of every frame, read
 * from the clock blocks.
 */
async function viewClock(
  page: Page,
  whepUrl: string,
  clockMs: number,
): Promise<{ postMs: number; connectMs: number; firstFrameMs: number; delays: number[]; unread: number }> {
  return page.evaluate(
    async ({ whepUrl, clockMs, BITS }) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      const stream = new MediaStream();
      pc.addEventListener('track', (e) => stream.addTrack(e.track));
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((r) => {
        if (pc.iceGatheringState === 'complete') return r();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
        setTimeout(r, 3000);
      });
      const t0 = performance.now();
      let connectMs = 0;
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'connected') connectMs = performance.now() - t0;
      });
      const res = await fetch(whepUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      const postMs = performance.now() - t0;
      const answer = await res.text();
      if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${answer}`);
      const location = new URL(res.headers.get('Location')!, whepUrl).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      video.srcObject = stream;
      void video.play();
      const firstFrameMs = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame in 10 s')), 10_000);
        video.requestVideoFrameCallback(() => {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        });
      });
      const canvas = document.createElement('canvas');
      canvas.width = 1280;
      canvas.height = 80;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const delays: number[] = [];
      let unread = 0;
      const end = performance.now() + clockMs;
      await new Promise<void>((resolve) => {
        const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
          // The frame as shown: top strip at full resolution (the video may arrive smaller).
          const scale = video.videoWidth / 1280;
          ctx.drawImage(video, 0, 0, video.videoWidth, 80 * scale, 0, 0, 1280, 80);
          const { data } = ctx.getImageData(0, 0, 1280, 80);
          let t = 0;
          let ok = true;
          for (let b = 0; b < BITS; b++) {
            const x = 16 + b * 52 + 24;
            const i = (40 * 1280 + x) * 4;
            const y = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
            if (y > 90 && y < 165) ok = false; // neither black nor white: unreadable
            t = t * 2 + (y >= 128 ? 1 : 0);
          }
          const shown = performance.timeOrigin + meta.expectedDisplayTime;
          const delay = ((Math.round(shown) % 2 ** BITS) - t + 2 ** BITS) % 2 ** BITS;
          if (ok && delay < 5000) delays.push(delay);
          else unread++;
          if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
          else resolve();
        };
        video.requestVideoFrameCallback(onFrame);
      });
      await fetch(location, { method: 'DELETE' });
      pc.close();
      video.remove();
      return { postMs, connectMs, firstFrameMs, delays, unread };
    },
    { whepUrl, clockMs, BITS },
  );
}

export interface WhepBenchResult {
  videoCodec: string;
  firstFrameMs: { samples: number[]; median: number; goal: number; connectMs: number[] };
  glassToGlassMs: { median: number; p95: number; frames: number; unread: number; goal: number };
  forwarding: {
    /** Full werift viewers (decrypting), 10 of them: the cost per viewer. */
    perViewer: ForwardingResult;
    /** Light viewers, stepped up: where one process stops keeping up. */
    ramp: ForwardingResult[];
    cpuPerViewerPercent: number;
    viewersPerCore: number;
  };
}

export async function whepBench(
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  engine: 'werift' | 'mediasoup' = 'werift',
): Promise<WhepBenchResult> {
  const server = await startServer({
    env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_WHEP_RATE_LIMIT: '1000', ONAIR_SFU: engine },
  });
  let browser: Browser | undefined;
  let result: Pick<WhepBenchResult, 'videoCodec' | 'firstFrameMs' | 'glassToGlassMs'>;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required',
        '--disable-background-timer-throttling',
        '--disable-backgrounding-occluded-windows',
        '--disable-renderer-backgrounding',
      ],
    });
    const ch = (
      await server.api<{ id: string; streamKey: string; urls: { whip: string; whep: string } }>(
        'POST',
        '/api/v1/channels',
        { name: 'bench whep', mode: 'passthrough', segmentSeconds: 2 },
      )
    ).json;
    await server.api('POST', `/api/v1/channels/${ch.id}/start`);
    const context = await browser.newContext({ baseURL: server.url });
    const publisher = await context.newPage();
    await publisher.goto('/healthz');
    const videoCodec = await publishClock(publisher, ch.urls.whip, ch.streamKey);
    await publisher.waitForTimeout(3000); // the encoder past its start-up

    const first: number[] = [];
    const connect: number[] = [];
    let g2g: number[] = [];
    let unread = 0;
    for (let i = 0; i < 5; i++) {
      const viewer = await context.newPage();
      await viewer.goto('/healthz');
      const r = await viewClock(viewer, ch.urls.whep, i === 0 ? 10_000 : 500);
      first.push(Math.round(r.firstFrameMs));
      connect.push(Math.round(r.connectMs));
      if (i === 0) {
        g2g = r.delays;
        unread = r.unread;
      }
      await viewer.close();
      await publisher.waitForTimeout(1500);
    }
    result = {
      videoCodec,
      firstFrameMs: { samples: first, median: median(first), goal: 500, connectMs: connect },
      glassToGlassMs: {
        median: median(g2g),
        p95: percentile(g2g, 95),
        frames: g2g.length,
        unread,
        goal: 150,
      },
    };
    log(
      `WHEP POST → first decoded frame (Chromium, ${videoCodec}): median ${result.firstFrameMs.median} ms [${first.join(', ')}], goal < 500 ms (connected after ${connect.join(', ')} ms)`,
    );
    log(
      `glass-to-glass through the SFU: median ${result.glassToGlassMs.median} ms, p95 ${result.glassToGlassMs.p95} ms over ${g2g.length} frames (${unread} unreadable), goal < 150 ms`,
    );
  } finally {
    await browser?.close();
    await server.dispose();
  }

  // 2 Mbit/s ≈ 210 video packets of 1200 bytes and 50 Opus packets a second.
  const PPS = 260;
  const perViewer = await measureForwarding({ viewers: 10, pps: PPS, seconds: 10, engine });
  log(`forwarding to 10 full viewers at 2 Mbit/s: ${JSON.stringify(perViewer)}`);
  const ramp: ForwardingResult[] = [];
  for (const viewers of [50, 100, 150, 200]) {
    const r = await measureForwarding({ viewers, pps: PPS, seconds: 8, light: true, perProcess: 25, engine });
    ramp.push(r);
    log(`forwarding to ${viewers} light viewers: ${JSON.stringify(r)}`);
    if (r.keptUp < 0.97 || r.worstLoss > 0.001) break;
  }
  const micros = median(ramp.filter((r) => r.keptUp >= 0.97).map((r) => r.microsPerPacketPerViewer));
  const cpuPerViewerPercent = Math.round(((PPS * perViewer.microsPerPacketPerViewer) / 1e6) * 1000) / 10;
  const viewersPerCore = Math.floor(1e6 / (PPS * micros));
  log(
    `CPU per viewer at 2 Mbit/s: ${cpuPerViewerPercent} % of a core (full viewers); ${micros} µs a packet a viewer at scale → about ${viewersPerCore} viewers a core`,
  );
  return { ...result, forwarding: { perViewer, ramp, cpuPerViewerPercent, viewersPerCore } };
}

if (import.meta.main) {
  const r = await whepBench(undefined, process.env.SFU_ENGINE === 'mediasoup' ? 'mediasoup' : 'werift');
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  process.exit(0);
}
