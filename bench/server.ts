/**
 * What the bench parts share: the real server (test/helpers/server.ts) with loopback-only ICE, JSON
 * calls that throw on an error status, a channel with the bench's WHIP publisher, and what /proc says
 * about a process (CPU time, RSS).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startServer, type TestServer } from '../test/helpers/server.ts';
import { publishWhipProcess } from '../test/helpers/publisher-process.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import type { ChannelMode } from '../lib/schemas.ts';
import type { LadderName } from '../lib/ladders.ts';

export type { TestServer };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** No request of the bench waits longer than this: a wedged server fails the run, never hangs it. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The bench publisher: FFmpeg's 1280x720 20 fps test pattern, a keyframe every 40 frames (2 s;
 * BENCH_PUBLISHER_GOP), and a tone. Unlike a browser it does not answer the server's PLI.
 */
export const PUBLISHER = {
  width: 1280,
  height: 720,
  fps: 20,
  gop: Number(process.env.BENCH_PUBLISHER_GOP ?? 40),
} as const;

export interface ChannelJson {
  id: string;
  streamKey: string;
  urls: { whip: string };
}

/** The SFU engines a bench part runs on: werift, and mediasoup beside it where a worker is found. */
export type BenchEngine = 'werift' | 'mediasoup';

export function startBenchServer(engine: BenchEngine = 'werift'): Promise<TestServer> {
  return startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_SFU: engine } });
}

/** A JSON API call with the admin token; an error status throws. */
export async function call<T>(s: TestServer, method: string, p: string, body?: unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${method} ${p}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
      REQUEST_TIMEOUT_MS,
    );
  });
  const r = await Promise.race([s.api<T>(method, p, body), timeout]).finally(() => clearTimeout(timer));
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

/** Creates and starts a channel. */
export async function startChannel(
  s: TestServer,
  opts: { name: string; mode: ChannelMode; segmentSeconds?: number; ladder?: LadderName },
): Promise<ChannelJson> {
  const ch = await call<ChannelJson>(s, 'POST', '/api/v1/channels', opts);
  await call(s, 'POST', `/api/v1/channels/${ch.id}/start`);
  return ch;
}

/** The bench publisher (its own process) on a channel's WHIP endpoint; anything but 201 throws. */
export async function publish(ch: ChannelJson): Promise<WhipPublisher> {
  const pub = await publishWhipProcess({ url: ch.urls.whip, token: ch.streamKey, ...PUBLISHER });
  if (pub.status !== 201) {
    await pub.stop();
    throw new Error(`WHIP ${pub.status}: ${pub.answer}`);
  }
  return pub;
}

/** The video track whose playlist a client of the channel reads: the top rendition, or the source. */
export function videoTrackOf(mode: ChannelMode): string {
  return mode === 'encode' ? '720p' : 'source';
}

/** Resolves when the track's live media playlist lists a complete segment; throws after `timeoutMs`. */
export async function waitForSegment(
  s: TestServer,
  channelId: string,
  track: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${s.url}/live/${channelId}/${track}.m3u8`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.ok && text.includes('#EXTINF')) return;
    await sleep(100);
  }
  throw new Error(`no segment of ${track} listed within ${timeoutMs} ms`);
}

// ── /proc ────────────────────────────────────────────────────────────────

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], utime [11]). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND : 0;
}

/** Living descendants of `pid` (children, their children, …). */
export function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && f[0] !== 'Z') parent.set(Number(name), Number(f[1]));
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export interface TreeCpu {
  /** The process itself. */
  self: number;
  /** Its descendants: the living ones, and those that ended and were waited for (cutime + cstime). */
  children: number;
}

/**
 * CPU seconds of a process and everything it started. Children that ended count through the
 * parent's cutime/cstime, so a short-lived child (a thumbnail FFmpeg) between two readings is
 * counted whole, and a child alive at both is counted by the difference.
 */
export function treeCpuSeconds(pid: number): TreeCpu {
  const f = statFields(pid);
  if (!f) return { self: 0, children: 0 };
  const self = (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  let children = (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
  for (const d of descendantsOf(pid)) {
    const g = statFields(d);
    // A living descendant's own time; its ended children are in its cutime.
    if (g) children += (Number(g[11]) + Number(g[12]) + Number(g[13]) + Number(g[14])) / TICKS_PER_SECOND;
  }
  return { self, children };
}

/** Resident set size of one process (VmRSS), in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}
