/**
 * WHIP 201 → first media, as a client sees it and as it lands on disk (run by bench/run.ts, part
 * `startup`; bounded: about 5–10 s a sample, RUNS samples per publisher and mode, about three
 * minutes in all).
 *
 * Two publishers, side by side:
 *
 *   - `werift`: the bench publisher (bench/server.ts PUBLISHER, its own process), FFmpeg's 720p
 *     20 fps test pattern with a keyframe every 2 s. It cannot answer the server's PLI, so when
 *     its first keyframe arrives before the run's FFmpeg listens, FFmpeg waits for the next one.
 *   - `chromium`: Debian's Chromium publishing its fake camera (1280x720, 20 fps) over WHIP with
 *     its own H.264 encoder (test/helpers/browser-whip.ts publishFakeCamera), as a browser or OBS would:
 *     it answers the PLI the server sends once FFmpeg's RTP port is bound. One browser for the
 *     part, a new page (and a new publish) per sample.
 *
 * Each sample is a new channel (2 s segments, latency `low`), one publish, and a poll every 25 ms
 * (from before the POST) of both the channel's media playlist (`source.m3u8` passthrough,
 * `720p.m3u8` encode) and the run's track directory in the server's data dir
 * (`media/<channel>/live/<run>/<track>/`). Times, in ms after the WHIP 201 reached the publisher
 * (a milestone seen before it is negative):
 *
 *   - connected: the publisher's ICE + DTLS connected
 *   - encoderStarted: the server started the run's FFmpeg (its pid file is written)
 *   - initOnDisk: FFmpeg wrote the track's init.mp4 (it has probed its input)
 *   - fragmentOnDisk: the first fragment (a part) was written: `seg_N.m4s.tmp` of nonzero size
 *   - segmentOnDisk: the first complete segment was renamed to `seg_N.m4s`
 *   - partListed: the playlist lists its first `#EXT-X-PART`
 *   - segmentListed: the playlist lists its first `#EXTINF`
 *
 * `publisherVideo` (per sample): what the publisher was sending once the first segment was listed.
 * Chromium's encoder picks its own resolution (it starts low and steps up as its bandwidth estimate
 * grows) and reports how many keyframes it encoded and how many PLIs it received so far; it answers
 * a PLI at most once every 300 ms (libwebrtc's minimum keyframe request interval).
 *
 * Reference: the segment duration; goal: first part listed ≤ 1.5 s, passthrough.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { publishFakeCamera, publisherVideoStats, unpublish } from '../test/helpers/browser-whip.ts';
import type { ChannelMode } from '../lib/schemas.ts';
import { median } from './median.ts';
import {
  PUBLISHER,
  REQUEST_TIMEOUT_MS,
  call,
  publish,
  sleep,
  startChannel,
  videoTrackOf,
  type ChannelJson,
  type TestServer,
} from './server.ts';
import { FAKE_MEDIA_ARGS } from '../test/helpers/chromium.ts';

const POLL_MS = 25;
const SAMPLE_TIMEOUT_MS = 30_000;
/** After the first segment is listed, how long to keep looking for a listed part. */
const PART_GRACE_MS = 3000;
export const PART_GOAL_MS = 1500;

export const STARTUP_PUBLISHERS = ['werift', 'chromium'] as const;
export type StartupPublisherName = (typeof STARTUP_PUBLISHERS)[number];

const MILESTONES = [
  'connected',
  'encoderStarted',
  'initOnDisk',
  'fragmentOnDisk',
  'segmentOnDisk',
  'partListed',
  'segmentListed',
] as const;
type Milestone = (typeof MILESTONES)[number];

/** What a publisher was sending (Chromium's outbound video stats; the werift publisher's settings). */
interface PublisherVideo {
  width?: number;
  height?: number;
  fps?: number;
  codec?: string;
  /** Keyframes encoded so far (Chromium). */
  keyframes?: number;
  /** PLIs received from the server so far (Chromium). */
  plisReceived?: number;
}

interface Sample {
  /** POST sent → 201 received. */
  postMs: number;
  /** ms after the 201; absent: not seen within the sample's time. */
  at: Partial<Record<Milestone, number>>;
  /** What the publisher sent, where it can tell (Chromium's outbound video stats). */
  video?: PublisherVideo;
}

/** One publish on a channel, as the sample sees it; every time is Date.now() on this machine. */
interface Publication {
  /** Just before the WHIP POST was sent. */
  postedAt: number;
  /** The 201 reached the publisher. */
  createdAt: number;
  /** When ICE + DTLS connected. */
  connectedAt: Promise<number>;
  /** What the publisher is sending (resolution, frame rate, codec), where it can tell. */
  video(): Promise<PublisherVideo>;
  stop(): Promise<void>;
}

interface StartupPublisher {
  name: StartupPublisherName;
  publish(ch: ChannelJson): Promise<Publication>;
  close(): Promise<void>;
}

/** The bench publisher in its own process: a keyframe every 2 s, no answer to a PLI. */
function weriftPublisher(): StartupPublisher {
  return {
    name: 'werift',
    async publish(ch) {
      const pub = await publish(ch);
      const createdAt = Date.now(); // the 201 has reached the publisher (plus a pipe's hop)
      return {
        postedAt: pub.postedAt,
        createdAt,
        connectedAt: pub.connected.then(() => Date.now()),
        video: () =>
          Promise.resolve({ width: PUBLISHER.width, height: PUBLISHER.height, fps: PUBLISHER.fps }),
        stop: () => pub.stop(),
      };
    },
    close: async () => {},
  };
}

/** Debian's Chromium with a fake camera: its H.264 encoder answers the server's PLI. */
async function chromiumPublisher(s: TestServer): Promise<StartupPublisher> {
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      // The fake camera (1280x720 at its default 20 fps, as asked by publishFakeCamera), no prompt.
      ...FAKE_MEDIA_ARGS,
    ],
  });
  let context: BrowserContext;
  try {
    context = await browser.newContext({ baseURL: s.url });
  } catch (e) {
    await browser.close();
    throw e;
  }
  return {
    name: 'chromium',
    async publish(ch) {
      const page: Page = await context.newPage();
      try {
        await page.goto('/healthz'); // same origin as the WHIP URL, a secure context (loopback)
        const r = await publishFakeCamera(page, ch.urls.whip, ch.streamKey);
        if (r.videoCodec !== 'H264') {
          await unpublish(page).catch(() => undefined);
          throw new Error(`Chromium publishes ${r.videoCodec}, not H.264: the figures would not compare`);
        }
        return {
          postedAt: r.postedAt,
          createdAt: r.createdAt,
          connectedAt: Promise.resolve(r.postedAt + r.connectMs),
          video: async () => {
            const v = await publisherVideoStats(page);
            return {
              width: v.frameWidth,
              height: v.frameHeight,
              fps: v.framesPerSecond,
              codec: v.codec,
              keyframes: v.keyFramesEncoded,
              plisReceived: v.pliCount,
            };
          },
          stop: async () => {
            await unpublish(page).catch(() => undefined); // the channel stop ends the session anyway
            await page.close();
          },
        };
      } catch (e) {
        await page.close();
        throw e;
      }
    },
    close: () => browser.close(),
  };
}

/** What FFmpeg has written so far for `track` under a channel's live dir (any run). */
function onDisk(
  liveDir: string,
  track: string,
): { started: boolean; init: boolean; fragment: boolean; segment: boolean } {
  const seen = { started: false, init: false, fragment: false, segment: false };
  let runs: string[];
  try {
    runs = readdirSync(liveDir);
  } catch {
    return seen; // no run yet
  }
  for (const run of runs) {
    seen.started ||= sizeOf(path.join(liveDir, run, 'ffmpeg.pid')) > 0;
    const dir = path.join(liveDir, run, track);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === 'init.mp4') seen.init ||= sizeOf(path.join(dir, name)) > 0;
      else if (/^seg_\d+\.m4s$/.test(name)) {
        seen.segment = true;
        seen.fragment = true; // its fragments were written before (the poll missed the .tmp)
      } else if (/^seg_\d+\.m4s\.tmp$/.test(name)) seen.fragment ||= sizeOf(path.join(dir, name)) > 0;
    }
  }
  return seen;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // renamed meanwhile
  }
}

async function sample(
  s: TestServer,
  publisher: StartupPublisher,
  mode: ChannelMode,
  segmentSeconds: number,
): Promise<Sample> {
  const ch = await startChannel(s, {
    name: `bench startup ${publisher.name} ${mode}`,
    mode,
    segmentSeconds,
    ladder: '720p',
  });
  const track = videoTrackOf(mode);
  const liveDir = path.join(s.dataDir, 'media', ch.id, 'live');
  /** Date.now() of each milestone; made relative to the 201 once the publish has answered. */
  const seenAt: Partial<Record<Milestone, number>> = {};
  const mark = (m: Milestone, t = Date.now()) => {
    seenAt[m] ??= t;
  };
  let publication: Publication | undefined;
  let failure: { error: unknown } | undefined;
  // The poll runs while the publisher POSTs and connects (Chromium's publish resolves once connected).
  const settled = publisher.publish(ch).then(
    (p) => {
      publication = p;
      void p.connectedAt.then((t) => mark('connected', t));
    },
    (error: unknown) => {
      failure = { error };
    },
  );
  let video: PublisherVideo | undefined;
  try {
    const deadline = Date.now() + SAMPLE_TIMEOUT_MS;
    while (Date.now() < deadline && !failure) {
      const disk = onDisk(liveDir, track);
      if (disk.started) mark('encoderStarted');
      if (disk.init) mark('initOnDisk');
      if (disk.fragment) mark('fragmentOnDisk');
      if (disk.segment) mark('segmentOnDisk');
      const res = await fetch(`${s.url}/live/${ch.id}/${track}.m3u8`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.ok) {
        if (text.includes('#EXT-X-PART:')) mark('partListed');
        if (text.includes('#EXTINF')) mark('segmentListed');
      }
      const listed = seenAt.segmentListed;
      if (publication && listed !== undefined) {
        if (seenAt.partListed !== undefined || Date.now() > listed + PART_GRACE_MS) break;
      }
      await sleep(POLL_MS);
    }
    await settled;
    if (failure) throw failure.error;
    if (!publication) throw new Error(`${publisher.name} ${mode}: the publish did not answer within 30 s`);
    if (seenAt.segmentListed === undefined)
      throw new Error(`${publisher.name} ${mode}: no segment listed within 30 s`);
    video = await publication.video();
    const t0 = publication.createdAt;
    const at: Sample['at'] = {};
    for (const m of MILESTONES) if (seenAt[m] !== undefined) at[m] = seenAt[m] - t0;
    return { postMs: t0 - publication.postedAt, at, video };
  } finally {
    await settled;
    await publication?.stop();
    await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);
  }
}

type ModeResult = Record<string, unknown>;

async function measure(
  s: TestServer,
  publisher: StartupPublisher,
  mode: ChannelMode,
  opts: { runs: number; segmentSeconds: number; print: (line: string) => void },
): Promise<{ result: ModeResult; medians: Partial<Record<Milestone, number | null>> }> {
  const who = `${publisher.name}, ${mode}`;
  const samples: Sample[] = [];
  for (let i = 0; i < opts.runs; i++) {
    samples.push(await sample(s, publisher, mode, opts.segmentSeconds));
    await sleep(3000); // measure from a quiet machine, not one still tearing the last session down
  }
  const series = (m: Milestone) => samples.map((x) => x.at[m] ?? null);
  const med = (m: Milestone) => {
    const xs = samples.map((x) => x.at[m]).filter((v) => v !== undefined);
    return xs.length === samples.length ? median(xs) : null; // a missing milestone: no median
  };
  const out: ModeResult = {
    referenceMs: opts.segmentSeconds * 1000,
    postMs: { samples: samples.map((x) => x.postMs), median: median(samples.map((x) => x.postMs)) },
  };
  for (const m of MILESTONES) out[m] = { samples: series(m), median: med(m) };
  if (mode === 'passthrough') out.partListedGoalMs = PART_GOAL_MS;
  out.publisherVideo = samples.map((x) => x.video ?? null);
  const fmt = (m: Milestone) => `${med(m) ?? '—'} ms [${series(m).join(', ')}]`;
  const ref = `reference: segment ${opts.segmentSeconds * 1000} ms`;
  opts.print(
    `WHIP 201 → first part listed (${who}): median ${fmt('partListed')}; ` +
      `${ref}${mode === 'passthrough' ? `, goal ≤ ${PART_GOAL_MS} ms` : ''}`,
  );
  opts.print(`WHIP 201 → first full segment listed (${who}): median ${fmt('segmentListed')}; ${ref}`);
  opts.print(
    `  where the time goes (${who}, medians): POST → 201 ${median(samples.map((x) => x.postMs))} ms; after the 201: ` +
      `connected ${med('connected') ?? '—'} ms, FFmpeg started ${med('encoderStarted') ?? '—'} ms, init.mp4 ${med('initOnDisk') ?? '—'} ms, ` +
      `first fragment on disk ${fmt('fragmentOnDisk')}, first segment complete on disk ${med('segmentOnDisk') ?? '—'} ms`,
  );
  const sent = samples.map((x) => x.video).filter((v) => v?.keyframes !== undefined);
  if (sent.length > 0) {
    opts.print(
      `  what ${publisher.name} sent by the first listed segment (${mode}): ` +
        sent
          .map(
            (v) =>
              `${v!.width}x${v!.height} ${v!.fps} fps, ${v!.keyframes} keyframes/${v!.plisReceived} PLIs`,
          )
          .join('; '),
    );
  }
  const medians: Partial<Record<Milestone, number | null>> = {};
  for (const m of MILESTONES) medians[m] = med(m);
  return { result: out, medians };
}

/**
 * Results as `{ <publisher>: { <mode>: … } }`. `runsFor` may lower the sample count of one
 * publisher and mode (it defaults to `runs`).
 */
export async function startupBench(
  s: TestServer,
  opts: {
    runs: number;
    segmentSeconds: number;
    modes: ChannelMode[];
    publishers: StartupPublisherName[];
    runsFor?: (publisher: StartupPublisherName, mode: ChannelMode) => number;
    print: (line: string) => void;
  },
): Promise<Record<string, unknown>> {
  const results: Record<string, Record<string, ModeResult>> = {};
  const table: string[] = [];
  for (const name of opts.publishers) {
    const publisher = name === 'werift' ? weriftPublisher() : await chromiumPublisher(s);
    try {
      results[name] = {};
      for (const mode of opts.modes) {
        const runs = opts.runsFor?.(name, mode) ?? opts.runs;
        const { result, medians } = await measure(s, publisher, mode, { ...opts, runs });
        results[name][mode] = result;
        const cell = (m: Milestone) => String(medians[m] ?? '—').padStart(6);
        table.push(
          `  ${name.padEnd(10)}${mode.padEnd(12)}${cell('fragmentOnDisk')}${cell('partListed')}${cell('segmentListed')}   (${runs} samples)`,
        );
      }
    } finally {
      await publisher.close();
    }
  }
  opts.print(
    `WHIP 201 → first media, medians in ms (werift: keyframe every 2 s, no PLI; chromium: answers PLI):`,
  );
  opts.print(`  ${'publisher'.padEnd(10)}${'mode'.padEnd(12)}  frag  part   seg`);
  for (const line of table) opts.print(line);
  return results;
}
