/**
 * One FFmpeg run: a process that reads a source's RTP (sent to it on loopback
 * by a plain-RTP consumer the SFU engine makes) and writes CMAF segments into
 * `<liveDir>/<runId>/<trackId>/`. It knows the source only by its description
 * (tracks and codecs); once FFmpeg listens it calls `connect(endpoint)` and
 * closes that link when the run ends. The supervisor (supervisor.ts) starts
 * runs and restarts them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { Ladder } from '../../lib/ladders.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import { MediaError } from '../media/errors.ts';
import type { SourceDescription } from '../media/source.ts';
import { buildFfmpegArgs } from './ffmpeg-args.ts';
import { buildInputSdp, type InputSdpOptions } from './input-sdp.ts';
import { ProgressParser } from './progress.ts';
import { allocateUdpPorts, waitForUdpPort } from './udp-port.ts';

/** A run asked to stop that has not exited (its BYE lost) gets SIGINT, then SIGKILL. */
const STOP_SIGINT_AFTER_MS = 10_000;
const STOP_SIGKILL_AFTER_MS = 13_000;

const VIDEO_PT = 96;
const AUDIO_PT = 111;
/**
 * FFmpeg exits by itself this long after its RTP input stops. Longer than a
 * failover or the wait for the slate (the output is silent meanwhile); a run
 * that is stopped on purpose ends at once with an RTCP BYE.
 */
export const INPUT_TIMEOUT_SECONDS = 6;

const PID_FILE = 'ffmpeg.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * After onair was killed (not stopped), FFmpeg processes it started may still be
 * finishing their last segments: they exit by themselves once their input has
 * been silent for a while. Wait for every one that writes under `liveDir`
 * (found by its pid file and command line), then kill what is left.
 */
export async function awaitOrphanedRuns(liveDir: string, timeoutMs = 10_000): Promise<number> {
  const pids: number[] = [];
  let runs: string[];
  try {
    runs = await readdir(liveDir);
  } catch {
    return 0;
  }
  for (const run of runs) {
    const runDir = path.join(liveDir, run);
    const pid = Number(await readFile(path.join(runDir, PID_FILE), 'utf8').catch(() => ''));
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(runDir)) pids.push(pid);
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  return pids.length;
}

/** Where FFmpeg listens for the source's RTP: one port per track, on loopback. */
export interface RtpInputEndpoint {
  host: '127.0.0.1';
  tracks: { trackId: string; port: number; payloadType: number }[];
}

/** The live connection from a source to a run's input; closed when the run stops. */
export interface InputLink {
  close(opts: { bye: boolean }): void;
}

export interface RunTrack {
  id: string;
  kind: 'video' | 'audio';
  bandwidth: number;
  width?: number;
  height?: number;
}

export interface EncoderProgress {
  speed: number | undefined;
  fps: number | undefined;
  frame: number | undefined;
  outTimeMs: number | undefined;
  updatedAt: number;
}

export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() asked for it. */
  expected: boolean;
  stderrTail: string;
}

export interface FfmpegRunOptions {
  ffmpegPath: string;
  ladder: Ladder;
  mode: ChannelMode;
  segmentSeconds: number;
  liveDir: string;
  runId: string;
  /** The source's tracks: the first video track and the first audio track are read. */
  input: SourceDescription;
  /** Called once FFmpeg listens: starts sending the source to `endpoint`. */
  connect: (endpoint: RtpInputEndpoint) => InputLink;
  log: Logger;
  /** Owns the FFmpeg process (killed should onair exit without stopping the run). */
  children: ChildRegistry;
  onExit: (exit: RunExit) => void;
}

export class FfmpegRun {
  readonly runId: string;
  readonly runDir: string;
  readonly tracks: RunTrack[];
  readonly startedAt = Date.now();
  progress: EncoderProgress = {
    speed: undefined,
    fps: undefined,
    frame: undefined,
    outTimeMs: undefined,
    updatedAt: 0,
  };

  readonly #child: ChildProcessWithoutNullStreams;
  #link: InputLink | undefined;
  readonly #exited: Promise<RunExit>;
  #stderr: string[] = [];
  #stopping = false;
  #done = false;

  private constructor(
    opts: FfmpegRunOptions,
    runDir: string,
    tracks: RunTrack[],
    child: ChildProcessWithoutNullStreams,
  ) {
    this.runId = opts.runId;
    this.runDir = runDir;
    this.tracks = tracks;
    this.#child = child;
    const parser = new ProgressParser();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      for (const s of parser.push(chunk)) {
        if (this.progress.frame === undefined && (s.frame ?? 0) > 0) {
          // How long FFmpeg took from spawn to its first encoded frames: probing shows up here.
          opts.log.debug(
            { runId: opts.runId, ms: Date.now() - this.startedAt, frame: s.frame },
            'encoder producing',
          );
        }
        this.progress = {
          speed: s.speed,
          fps: s.fps,
          frame: s.frame,
          outTimeMs: s.outTimeMs,
          updatedAt: Date.now(),
        };
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.#stderr.push(...chunk.split('\n').filter(Boolean));
      if (this.#stderr.length > 30) this.#stderr = this.#stderr.slice(-30);
    });
    child.stdin.on('error', () => undefined);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#done = true;
        this.#release();
        const exit: RunExit = {
          code,
          signal,
          expected: this.#stopping,
          stderrTail: this.#stderr.slice(-5).join(' | '),
        };
        opts.onExit(exit);
        resolve(exit);
      });
    });
  }

  /** Spawns FFmpeg, waits until it listens, then connects the source. */
  static async start(opts: FfmpegRunOptions): Promise<FfmpegRun> {
    const runDir = path.join(opts.liveDir, opts.runId);
    await mkdir(runDir, { recursive: true });
    // passthrough-abr reads every video track (renditions); the other modes the first one.
    const videos = opts.input.tracks.filter((t) => t.kind === 'video');
    const readVideos = opts.mode === 'passthrough-abr' ? videos : videos.slice(0, 1);
    const video = readVideos[0];
    const audio = opts.input.tracks.find((t) => t.kind === 'audio');
    if (!video) throw new MediaError('invalid_argument', 'the source has no video track');
    const videoCodec = video.codec.name === 'VP8' ? 'VP8' : video.codec.name === 'H264' ? 'H264' : undefined;
    if (!videoCodec)
      throw new MediaError('unsupported_media', `video codec ${video.codec.name} is not supported`);
    if (readVideos.some((v) => v.codec.name !== videoCodec))
      throw new MediaError('unsupported_media', 'every rendition must have the same video codec');
    if (audio && audio.codec.name !== 'OPUS') {
      throw new MediaError('unsupported_media', `audio codec ${audio.codec.name} is not supported`);
    }
    const ports = await allocateUdpPorts(readVideos.length + (audio ? 1 : 0));
    const videoPorts = ports.slice(0, readVideos.length);
    const videoPort = videoPorts[0]!;
    const audioPort = audio ? ports[readVideos.length] : undefined;
    const sdpVideo = (port: number): InputSdpOptions['video'] => ({
      codec: videoCodec,
      payloadType: VIDEO_PT,
      clockRate: 90000 as const,
      fmtp: videoCodec === 'H264' ? 'packetization-mode=1' : undefined,
      port,
    });
    const sdpOptions: InputSdpOptions = {
      address: '127.0.0.1',
      video: sdpVideo(videoPort),
      ...(videoPorts.length > 1 ? { moreVideo: videoPorts.slice(1).map((p) => sdpVideo(p)) } : {}),
    };
    if (audio && audioPort !== undefined) {
      sdpOptions.audio = {
        codec: 'opus',
        payloadType: AUDIO_PT,
        clockRate: 48000,
        channels: 2,
        port: audioPort,
      };
    }
    const sdpPath = path.join(runDir, 'input.sdp');
    await writeFile(sdpPath, buildInputSdp(sdpOptions));
    const built = buildFfmpegArgs({
      ladder: opts.ladder,
      mode: opts.mode,
      segmentSeconds: opts.segmentSeconds,
      sdpPath,
      runDir,
      inputTimeoutSeconds: INPUT_TIMEOUT_SECONDS,
      hasAudio: sdpOptions.audio !== undefined,
      ...(opts.mode === 'passthrough-abr' ? { videoTrackIds: readVideos.map((v) => v.id) } : {}),
    });
    // The dash muxer writes into the track directories but does not make them.
    for (const t of built.tracks) await mkdir(path.join(runDir, t.id), { recursive: true });
    const child = spawn(opts.ffmpegPath, built.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    if (spawned) {
      throw new MediaError('encoder_failed', `cannot run ${opts.ffmpegPath}: ${spawned.message}`, {
        cause: spawned,
      });
    }
    opts.children.add(child, 'encoder');
    // Should onair itself be killed, the next start finds this FFmpeg and lets it finish its files.
    await writeFile(path.join(runDir, PID_FILE), String(child.pid ?? '')).catch(() => undefined);
    const run = new FfmpegRun(opts, runDir, built.tracks, child);
    opts.log.debug({ runId: opts.runId, args: built.args.join(' ') }, 'ffmpeg started');
    try {
      // Media sent before FFmpeg binds its ports is lost, and with it the first keyframe.
      for (const p of videoPorts) await waitForUdpPort(p, 5000);
      if (audioPort !== undefined) await waitForUdpPort(audioPort, 5000);
    } catch (err) {
      await run.stop();
      throw err;
    }
    if (run.#done) {
      throw new MediaError('encoder_failed', `ffmpeg exited at start: ${run.#stderr.slice(-3).join(' | ')}`);
    }
    const endpoint: RtpInputEndpoint = {
      host: '127.0.0.1',
      tracks: readVideos.map((v, i) => ({ trackId: v.id, port: videoPorts[i]!, payloadType: VIDEO_PT })),
    };
    if (audio && audioPort !== undefined)
      endpoint.tracks.push({ trackId: audio.id, port: audioPort, payloadType: AUDIO_PT });
    run.#link = opts.connect(endpoint);
    return run;
  }

  get running(): boolean {
    return !this.#done;
  }

  #release(opts: { bye?: boolean } = {}): void {
    this.#link?.close({ bye: opts.bye ?? false });
    this.#link = undefined;
  }

  /**
   * Ends the run and lets FFmpeg finish its last segment and playlist. Idempotent.
   * Stops the RTP, asks FFmpeg to quit, and kills it if it has not exited in time.
   */
  async stop(): Promise<RunExit> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#release({ bye: true });
      if (!this.#done) {
        // RTCP BYE ends FFmpeg's input at once; should a BYE be lost, FFmpeg still exits
        // after its input timeout. Signals are the last resort.
        this.#child.stdin.end();
        // Measured: FFmpeg finishes 2–8 s after its RTP stops (it re-hits the read
        // timeout while flushing). SIGINT does not interrupt that wait; SIGKILL is the
        // last resort and costs the final segment.
        const killTimer = setTimeout(() => {
          if (!this.#done) this.#child.kill('SIGINT');
        }, STOP_SIGINT_AFTER_MS);
        const hardTimer = setTimeout(() => {
          if (!this.#done) this.#child.kill('SIGKILL');
        }, STOP_SIGKILL_AFTER_MS);
        void this.#exited.then(() => {
          clearTimeout(killTimer);
          clearTimeout(hardTimer);
        });
      }
    }
    return this.#exited;
  }

  /** For tests and fault handling: the process dies now. */
  kill(): void {
    this.#child.kill('SIGKILL');
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }
}
