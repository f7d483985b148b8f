/**
 * Low latency and the origin, each figure beside its reference (run by bench/run.ts, parts `ll` and
 * `origin`; bounded: about two minutes each):
 *
 *   - live delay: wall clock minus the end of the newest listed media (server side), and the
 *     playhead delay of hls.js and dash.js in Chromium behind the wall clock, latency `low` and
 *     `standard` on the same stream
 *   - origin: requests/s and p99 with wrk (2 threads, 16 connections, 5 s, loopback) on a hot
 *     segment, a part, a media playlist and the MPD: onair alone, nginx serving the same bytes as
 *     files, and onair behind the shipped nginx edge (deploy/nginx/onair-edge.conf)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { startEdge, startFileServer } from '../test/helpers/nginx-edge.ts';
import { publishWhipProcess as publishWhip } from '../test/helpers/publisher-process.ts';
import { DASH_JS, HLS_JS } from '../test/helpers/player-scripts.ts';
import { dashSettings, hlsConfig, hlsConfigAfter } from '../components/player/player-config.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};
const round = (n: number, d = 2): number => Number(n.toFixed(d));

export interface Api {
  url: string;
  call<T>(method: string, p: string, body?: unknown): Promise<T>;
}

interface ChannelJson {
  id: string;
  streamKey: string;
  urls: { whip: string };
}

/** A passthrough channel with a publisher, once its playlist lists a complete segment. */
async function liveChannel(api: Api, latency: 'low' | 'standard') {
  const ch = await api.call<ChannelJson>('POST', '/api/v1/channels', {
    name: 'bench low latency',
    mode: 'passthrough',
    latency,
  });
  await api.call('POST', `/api/v1/channels/${ch.id}/start`);
  const pub = await publishWhip({
    url: ch.urls.whip,
    token: ch.streamKey,
    width: 1280,
    height: 720,
    fps: 20,
    gop: 40,
  });
  if (pub.status !== 201) throw new Error(`WHIP ${pub.status}`);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${api.url}/live/${ch.id}/source.m3u8`);
    if (r.ok && (await r.text()).includes('#EXTINF')) break;
    await sleep(100);
  }
  return {
    ch,
    stop: async () => {
      await pub.stop();
      await api.call('POST', `/api/v1/channels/${ch.id}/stop`);
    },
  };
}

/** Seconds between now and the end of the newest media the playlist lists (parts included). */
function serverDelay(text: string): number | undefined {
  const lines = text.split('\n');
  let pdt: number | undefined;
  let after = 0;
  for (const l of lines) {
    if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(l.slice(25));
      after = 0;
    } else if (l.startsWith('#EXTINF:')) after = Number(l.slice(8).split(',')[0]);
    else if (l.startsWith('#EXT-X-PART:')) after += Number(/DURATION=([\d.]+)/.exec(l)?.[1] ?? 0);
  }
  return pdt === undefined ? undefined : (Date.now() - (pdt + after * 1000)) / 1000;
}

/** hls.js's and dash.js's delay behind the wall clock, configured as the watch page configures them. */
async function playerDelays(base: string, channelId: string, seconds: number, lowLatency: boolean) {
  const cfg = {
    hls: hlsConfig({ dvr: false, lowLatency }),
    hlsAfter: hlsConfigAfter({ dvr: false, lowLatency }),
    dash: dashSettings({ dvr: false, lowLatency }),
  };
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const out: Record<string, number> = {};
    for (const kind of ['hls', 'dash'] as const) {
      const page = await browser.newPage();
      await page.goto(`${base}/time`);
      await page.addScriptTag({ path: kind === 'hls' ? HLS_JS : DASH_JS });
      /* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- the players' globals in the page */
      await page.evaluate(
        ({ kind, src, cfg }) => {
          const w = window as unknown as Record<string, any>;
          const v = document.createElement('video');
          v.muted = true;
          document.body.append(v);
          if (kind === 'hls') {
            const hls = new w.Hls(cfg.hls);
            Object.assign(hls.config, cfg.hlsAfter);
            hls.loadSource(src);
            hls.attachMedia(v);
            v.play().catch(() => undefined);
            w.delay = () => (hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : NaN);
          } else {
            const p = w.dashjs.MediaPlayer().create();
            p.updateSettings(cfg.dash);
            p.initialize(v, src, true);
            w.delay = () => p.getCurrentLiveLatency();
          }
        },
        { kind, src: `${base}/live/${channelId}/${kind === 'hls' ? 'master.m3u8' : 'manifest.mpd'}`, cfg },
      );
      /* eslint-enable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any */
      await sleep(8000); // settle at the player's target
      const samples: number[] = [];
      for (let i = 0; i < seconds; i++) {
        const d = await page.evaluate(() => (window as unknown as { delay: () => number }).delay());
        if (Number.isFinite(d) && d > 0) samples.push(d);
        await sleep(1000);
      }
      out[kind] = round(median(samples));
      await page.close();
    }
    return out;
  } finally {
    await browser.close();
  }
}

export async function latencyBench(api: Api): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const { ch, stop } = await liveChannel(api, 'low');
  try {
    for (const latency of ['low', 'standard'] as const) {
      await api.call('PATCH', `/api/v1/channels/${ch.id}`, { latency });
      const server: number[] = [];
      for (let i = 0; i < 10; i++) {
        const d = serverDelay(await (await fetch(`${api.url}/live/${ch.id}/source.m3u8`)).text());
        if (d !== undefined) server.push(d);
        await sleep(300);
      }
      const players = await playerDelays(api.url, ch.id, 12, latency === 'low');
      results[latency] = { newestMediaAgeSeconds: round(median(server)), playerDelaySeconds: players };
      process.stdout.write(
        `live delay (${latency}): newest media ${round(median(server))} s old; hls.js ${players.hls} s, dash.js ${players.dash} s behind the wall clock\n`,
      );
    }
  } finally {
    await stop();
  }
  return results;
}

interface WrkResult {
  rps: number;
  p99ms: number;
  errors: number;
}

async function wrk(url: string): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)('wrk', ['-t2', '-c16', '-d5s', '--latency', url], {
    timeout: 30_000,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p99ms = p ? Number(p[1]) * (p[2] === 'us' ? 0.001 : p[2] === 's' ? 1000 : 1) : Number.NaN;
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps: Math.round(rps), p99ms: round(p99ms), errors };
}

export async function originBench(api: Api): Promise<Record<string, unknown>> {
  const { ch, stop } = await liveChannel(api, 'low');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-bench-files-'));
  const files = await startFileServer(dir);
  const edge = await startEdge(Number(new URL(api.url).port));
  const results: Record<string, unknown> = {};
  try {
    const live = `${api.url}/live/${ch.id}`;
    // The newest complete segment and part when each is measured: what live viewers are asking for.
    const newest = async (name: string): Promise<string> => {
      const playlist = await (await fetch(`${live}/source.m3u8`)).text();
      if (name === 'segment')
        return playlist
          .split('\n')
          .filter((l) => l.endsWith('.m4s') && !l.startsWith('#'))
          .at(-1)!;
      if (name === 'part') return [...playlist.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].at(-1)![1]!;
      return name === 'playlist' ? 'source.m3u8' : 'manifest.mpd';
    };
    for (const name of ['segment', 'part', 'playlist', 'mpd']) {
      const uri = await newest(name);
      // nginx's copy of the same bytes.
      const body = Buffer.from(await (await fetch(`${live}/${uri}`)).arrayBuffer());
      writeFileSync(path.join(dir, name), body);
      results[`${name}Bytes`] = body.length;
      // Hot: each server has answered it once (the edge has it in its cache).
      await (await fetch(`${edge.url}/live/${ch.id}/${uri}`)).arrayBuffer();
      await (await fetch(`${files.url}/${name}`)).arrayBuffer();
      const onair = await wrk(`${live}/${uri}`);
      const nginx = await wrk(`${files.url}/${name}`);
      const viaEdge = await wrk(`${edge.url}/live/${ch.id}/${uri}`);
      results[name] = {
        onair,
        nginx,
        edge: viaEdge,
        onairVsNginx: round(onair.rps / nginx.rps),
        edgeVsNginx: round(viaEdge.rps / nginx.rps),
      };
      process.stdout.write(
        `origin ${name}: onair ${onair.rps}/s (p99 ${onair.p99ms} ms), nginx ${nginx.rps}/s (p99 ${nginx.p99ms} ms), ` +
          `onair behind the edge ${viaEdge.rps}/s (p99 ${viaEdge.p99ms} ms); onair ${round(onair.rps / nginx.rps)}× nginx, edge ${round(viaEdge.rps / nginx.rps)}× nginx` +
          `${onair.errors + nginx.errors + viaEdge.errors > 0 ? ` (non-2xx: ${onair.errors}/${nginx.errors}/${viaEdge.errors})` : ''}\n`,
      );
    }
  } finally {
    await edge.stop();
    await files.stop();
    rmSync(dir, { recursive: true, force: true });
    await stop();
  }
  return results;
}
