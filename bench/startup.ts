/**
 * WHIP 201 → first media, as a client sees it and as it lands on disk (run by bench/run.ts, part
 * `startup`; bounded: about 10 s a sample, RUNS samples per mode, about two minutes in all).
 *
 * Each sample is a new channel (2 s segments, latency `low`), the bench publisher, and a poll every
 * 25 ms of both the channel's media playlist (`source.m3u8` passthrough, `720p.m3u8` encode) and the
 * run's track directory in the server's data dir (`media/<channel>/live/<run>/<track>/`). Times, in
 * ms after the WHIP 201 reached the publisher:
 *
 *   - connected: the publisher's ICE + DTLS connected
 *   - encoderStarted: the server started the run's FFmpeg (its pid file is written)
 *   - initOnDisk: FFmpeg wrote the track's init.mp4 (it has probed its input)
 *   - fragmentOnDisk: the first fragment (a part) was written: `seg_N.m4s.tmp` of nonzero size
 *   - segmentOnDisk: the first complete segment was renamed to `seg_N.m4s`
 *   - partListed: the playlist lists its first `#EXT-X-PART`
 *   - segmentListed: the playlist lists its first `#EXTINF`
 *
 * Reference: the segment duration; goal: first part listed ≤ 1.5 s, passthrough.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChannelMode } from '../lib/schemas.ts';
import { median } from './median.ts';
import {
  REQUEST_TIMEOUT_MS,
  call,
  publish,
  sleep,
  startChannel,
  videoTrackOf,
  type TestServer,
} from './server.ts';

const POLL_MS = 25;
const SAMPLE_TIMEOUT_MS = 30_000;
/** After the first segment is listed, how long to keep looking for a listed part. */
const PART_GRACE_MS = 3000;
export const PART_GOAL_MS = 1500;

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

interface Sample {
  /** POST sent → 201 received. */
  postMs: number;
  /** ms after the 201; absent: not seen within the sample's time. */
  at: Partial<Record<Milestone, number>>;
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

async function sample(s: TestServer, mode: ChannelMode, segmentSeconds: number): Promise<Sample> {
  const ch = await startChannel(s, { name: `bench startup ${mode}`, mode, segmentSeconds, ladder: '720p' });
  const track = videoTrackOf(mode);
  const liveDir = path.join(s.dataDir, 'media', ch.id, 'live');
  const pub = await publish(ch);
  const t0 = Date.now(); // the 201 has reached the publisher (plus a pipe's hop)
  const at: Sample['at'] = {};
  const mark = (m: Milestone) => {
    at[m] ??= Date.now() - t0;
  };
  void pub.connected.then(() => mark('connected'));
  try {
    const deadline = t0 + SAMPLE_TIMEOUT_MS;
    while (Date.now() < deadline) {
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
      if (at.segmentListed !== undefined) {
        if (at.partListed !== undefined || Date.now() - t0 > at.segmentListed + PART_GRACE_MS) break;
      }
      await sleep(POLL_MS);
    }
    if (at.segmentListed === undefined) throw new Error(`${mode}: no segment listed within 30 s`);
    return { postMs: t0 - pub.postedAt, at };
  } finally {
    await pub.stop();
    await call(s, 'POST', `/api/v1/channels/${ch.id}/stop`);
  }
}

export async function startupBench(
  s: TestServer,
  opts: { runs: number; segmentSeconds: number; modes: ChannelMode[]; print: (line: string) => void },
): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const mode of opts.modes) {
    const samples: Sample[] = [];
    for (let i = 0; i < opts.runs; i++) {
      samples.push(await sample(s, mode, opts.segmentSeconds));
      await sleep(3000); // measure from a quiet machine, not one still tearing the last session down
    }
    const series = (m: Milestone) => samples.map((x) => x.at[m] ?? null);
    const med = (m: Milestone) => {
      const xs = samples.map((x) => x.at[m]).filter((v) => v !== undefined);
      return xs.length === samples.length ? median(xs) : null; // a missing milestone: no median
    };
    const out: Record<string, unknown> = {
      referenceMs: opts.segmentSeconds * 1000,
      postMs: { samples: samples.map((x) => x.postMs), median: median(samples.map((x) => x.postMs)) },
    };
    for (const m of MILESTONES) out[m] = { samples: series(m), median: med(m) };
    if (mode === 'passthrough') out.partListedGoalMs = PART_GOAL_MS;
    results[mode] = out;
    const fmt = (m: Milestone) => `${med(m) ?? '—'} ms [${series(m).join(', ')}]`;
    opts.print(
      `WHIP 201 → first part listed (${mode}): median ${fmt('partListed')}; ` +
        `reference: segment ${opts.segmentSeconds * 1000} ms${mode === 'passthrough' ? `, goal ≤ ${PART_GOAL_MS} ms` : ''}`,
    );
    opts.print(
      `WHIP 201 → first full segment listed (${mode}): median ${fmt('segmentListed')}; reference: segment ${opts.segmentSeconds * 1000} ms`,
    );
    opts.print(
      `  where the time goes (${mode}, medians): POST → 201 ${median(samples.map((x) => x.postMs))} ms; after the 201: ` +
        `connected ${med('connected') ?? '—'} ms, FFmpeg started ${med('encoderStarted') ?? '—'} ms, init.mp4 ${med('initOnDisk') ?? '—'} ms, ` +
        `first fragment on disk ${fmt('fragmentOnDisk')}, first segment complete on disk ${med('segmentOnDisk') ?? '—'} ms`,
    );
  }
  return results;
}
