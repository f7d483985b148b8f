/**
 * hls.js and dash.js inside a Chromium page: load the UMD build from node_modules,
 * play a URL in a muted <video> that covers the page, record every player error,
 * and measure how far currentTime advances.
 */
import { expect, type Page } from '@playwright/test';
import type Hls from 'hls.js';
import type { MediaPlayer } from 'dashjs';
import { DASH_JS, HLS_JS } from '../../test/helpers/player-scripts.ts';

export interface PlayerError {
  /** Milliseconds since the player was created. */
  at: number;
  fatal: boolean;
  /** hls.js: type/details/reason/response code; dash.js: event type, code and message. */
  text: string;
}

export interface PlayerState {
  kind: 'hls' | 'dash';
  currentTime: number;
  paused: boolean;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  buffered: [number, number][];
  /** 'waiting' events of the video element (stalls). */
  waiting: number;
  errors: PlayerError[];
  /** hls.js: the level playing now (index, height); dash.js: the video quality's height. */
  level: string;
  /**
   * What the player moved through, in order: hls.js "cc<N>" (the discontinuity sequence
   * of each fragment it played, FRAG_CHANGED); dash.js "period:<id>" (periodSwitchCompleted).
   */
  played: string[];
}

interface PlayerWindow {
  __onairPlayer?: {
    kind: 'hls' | 'dash';
    video: HTMLVideoElement;
    t0: number;
    errors: PlayerError[];
    waiting: number;
    level: () => string;
    played: string[];
    destroy: () => void;
  };
  Hls: typeof Hls;
  dashjs: { MediaPlayer: typeof MediaPlayer };
}

/** The page's <video>: fixed over the whole viewport so a screenshot shows the frame. */
function installVideo(): void {
  const video = document.createElement('video');
  video.id = 'onair-e2e-video';
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.style.cssText =
    'position:fixed;inset:0;width:100vw;height:100vh;z-index:2147483647;background:#000;object-fit:contain';
  document.body.append(video);
}

export async function startHls(page: Page, url: string): Promise<void> {
  await page.addScriptTag({ path: HLS_JS });
  await page.evaluate(installVideo);
  await page.evaluate((url) => {
    const w = window as unknown as PlayerWindow;
    const video = document.getElementById('onair-e2e-video') as HTMLVideoElement;
    const t0 = performance.now();
    const errors: PlayerError[] = [];
    const played: string[] = [];
    const HlsCtor = w.Hls;
    if (!HlsCtor.isSupported()) throw new Error('hls.js: MSE/codecs not supported in this browser');
    const hls = new HlsCtor({ debug: false });
    hls.on(HlsCtor.Events.ERROR, (_event, data) => {
      const parts: string[] = [data.type, data.details];
      if (data.reason) parts.push(`reason=${data.reason}`);
      if (data.response) parts.push(`response=${String(data.response.code)} ${String(data.response.text)}`);
      if (data.frag) parts.push(`frag=${data.frag.url} sn=${String(data.frag.sn)} cc=${data.frag.cc}`);
      if (data.error) parts.push(`error=${data.error.message}`);
      errors.push({ at: Math.round(performance.now() - t0), fatal: data.fatal, text: parts.join(' ') });
    });
    hls.on(HlsCtor.Events.FRAG_CHANGED, (_event, data) => {
      const cc = `cc${data.frag.cc}`;
      if (played[played.length - 1] !== cc) played.push(cc);
    });
    video.addEventListener('waiting', () => {
      if (w.__onairPlayer) w.__onairPlayer.waiting++;
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    w.__onairPlayer = {
      kind: 'hls',
      video,
      t0,
      errors,
      waiting: 0,
      played,
      destroy: () => hls.destroy(),
      level: () => {
        const l = hls.levels[hls.currentLevel];
        return l ? `${hls.currentLevel} (${l.width}x${l.height})` : String(hls.currentLevel);
      },
    };
    video.play().catch(() => undefined);
  }, url);
}

export async function startDash(page: Page, url: string): Promise<void> {
  await page.addScriptTag({ path: DASH_JS });
  await page.evaluate(installVideo);
  await page.evaluate((url) => {
    const w = window as unknown as PlayerWindow;
    const video = document.getElementById('onair-e2e-video') as HTMLVideoElement;
    const t0 = performance.now();
    const errors: PlayerError[] = [];
    const player = w.dashjs.MediaPlayer().create();
    const record = (type: string, e: unknown): void => {
      const err = (e as { error?: { code?: unknown; message?: unknown } }).error;
      const text = `${type} code=${String(err?.code)} message=${String(err?.message)}`;
      errors.push({ at: Math.round(performance.now() - t0), fatal: true, text });
    };
    // dash.js raises 'error' only once its own retries are exhausted: every one is fatal to playback.
    player.on('error', (e) => record('error', e));
    player.on('playbackError', (e) => record('playbackError', e));
    const played: string[] = [];
    player.on('periodSwitchCompleted', (e) => {
      played.push(`period:${e.toStreamInfo?.id ?? 'null'}`);
    });
    video.addEventListener('waiting', () => {
      if (w.__onairPlayer) w.__onairPlayer.waiting++;
    });
    player.initialize(video, url, true);
    w.__onairPlayer = {
      kind: 'dash',
      video,
      t0,
      errors,
      waiting: 0,
      played,
      destroy: () => player.destroy(),
      level: () => {
        const r = player.getCurrentRepresentationForType('video');
        return r ? `${r.id} (${r.width}x${r.height})` : 'none';
      },
    };
  }, url);
}

/** Tears the page's player down (no more requests), leaving the last frame on screen. */
export async function stopPlayer(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as PlayerWindow).__onairPlayer?.destroy());
}

export async function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(() => {
    const p = (window as unknown as PlayerWindow).__onairPlayer;
    if (!p) throw new Error('no player in this page');
    const v = p.video;
    const buffered: [number, number][] = [];
    for (let i = 0; i < v.buffered.length; i++) buffered.push([v.buffered.start(i), v.buffered.end(i)]);
    return {
      kind: p.kind,
      currentTime: v.currentTime,
      paused: v.paused,
      readyState: v.readyState,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      buffered,
      waiting: p.waiting,
      errors: p.errors,
      level: p.level(),
      played: p.played,
    };
  });
}

export function describeState(s: PlayerState): string {
  const buf = s.buffered.map(([a, b]) => `${a.toFixed(2)}-${b.toFixed(2)}`).join(',');
  return (
    `${s.kind}: currentTime=${s.currentTime.toFixed(2)} paused=${s.paused} readyState=${s.readyState} ` +
    `video=${s.videoWidth}x${s.videoHeight} level=${s.level} buffered=[${buf}] waiting=${s.waiting} ` +
    `played=${s.played.join('>')} errors=${JSON.stringify(s.errors)}`
  );
}

export interface Advance {
  /** currentTime when measuring began (the first sample with playback under way). */
  from: number;
  to: number;
  /** Wall time over which currentTime advanced by (to - from). */
  wallMs: number;
  /** Wall time spent waiting for playback to start (currentTime > 0) before measuring. */
  startupMs: number;
  state: PlayerState;
}

/** The player hit no fatal error and currentTime advanced by at least `seconds` (the state in the message). */
export function expectAdvanced(adv: Advance, seconds: number): void {
  expect(
    adv.state.errors.filter((e) => e.fatal),
    describeState(adv.state),
  ).toEqual([]);
  expect(adv.to - adv.from, describeState(adv.state)).toBeGreaterThanOrEqual(seconds);
}

/**
 * Waits (up to `startupMs`) for playback to start (currentTime > 0), unless `fromNow`,
 * then (up to `advanceMs` more) until currentTime has advanced by `seconds` from that
 * point. Stops early on a fatal player error. Returns what it saw; the caller asserts.
 */
export async function measureAdvance(
  page: Page,
  seconds: number,
  opts: { startupMs?: number; advanceMs: number; fromNow?: boolean },
): Promise<Advance> {
  const fatal = (s: PlayerState): boolean => s.errors.some((e) => e.fatal);
  const start = Date.now();
  let state = await playerState(page);
  while (
    !opts.fromNow &&
    state.currentTime <= 0 &&
    Date.now() - start < (opts.startupMs ?? 20_000) &&
    !fatal(state)
  ) {
    await page.waitForTimeout(200);
    state = await playerState(page);
  }
  const startupMs = Date.now() - start;
  const from = state.currentTime;
  const t = Date.now();
  while (state.currentTime - from < seconds && Date.now() - t < opts.advanceMs && !fatal(state)) {
    await page.waitForTimeout(250);
    state = await playerState(page);
  }
  return { from, to: state.currentTime, wallMs: Date.now() - t, startupMs, state };
}

/**
 * The luma of the first frame shown within `timeoutMs` (sampled every 250 ms): a player that has just
 * run dry on a loaded machine shows nothing for a moment, which says nothing of the picture.
 */
export async function shownFrameLuma(
  page: Page,
  timeoutMs = 10_000,
): Promise<{ mean: number; std: number; width: number; height: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const luma = await frameLuma(page);
    const shown = await page.evaluate(
      () => (document.getElementById('onair-e2e-video') as HTMLVideoElement).readyState >= 2,
    );
    if ((shown && luma.mean > 0) || Date.now() > deadline) return luma;
    await page.waitForTimeout(250);
  }
}

/**
 * Mean and standard deviation of the luma of the video's current frame, drawn to a
 * canvas (same origin, so readable). A black or frozen-blank frame has mean ≈ 16 and
 * deviation ≈ 0; the fake camera's picture has colour and a moving pattern.
 */
export async function frameLuma(
  page: Page,
): Promise<{ mean: number; std: number; width: number; height: number }> {
  return page.evaluate(() => {
    const p = (window as unknown as PlayerWindow).__onairPlayer;
    if (!p) throw new Error('no player in this page');
    const v = p.video;
    const width = v.videoWidth;
    const height = v.videoHeight;
    if (!width || !height) return { mean: 0, std: 0, width, height };
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 90;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.2126 * (data[i] ?? 0) + 0.7152 * (data[i + 1] ?? 0) + 0.0722 * (data[i + 2] ?? 0);
      sum += y;
      sumSq += y * y;
    }
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), width, height };
  });
}
