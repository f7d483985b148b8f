/**
 * FFmpeg as an RTMP or SRT encoder, the way a user runs it: a child process that
 * sends a test pattern (and a tone) in real time. Used by the API tests, the
 * E2E tests and the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Push {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr: string;
  /** Resolves with the exit code once FFmpeg has exited. */
  readonly exited: Promise<number | null>;
  /** SIGINT (a clean end), SIGKILL after 3 s. */
  stop(): Promise<void>;
  /** SIGKILL now: the encoder vanishes mid-stream. */
  kill(): Promise<void>;
}

export interface PushOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in seconds (default 2, the segment length). */
  gopSeconds?: number;
  /** Seconds to send (default: until stopped). */
  seconds?: number;
  audio?: boolean;
  ffmpegPath?: string;
  /** x264 preset (default veryfast, as OBS); ultrafast keeps a loaded 2-core machine at the full frame rate. */
  preset?: string;
}

/** Every encoder still running: killed should the test process exit first. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function start(args: string[], ffmpegPath = 'ffmpeg'): Push {
  const child = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'warning', '-nostdin', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const push: Push = {
    child,
    pid: child.pid ?? -1,
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await push.exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await push.exited;
    },
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    push.stderr = (push.stderr + c).slice(-8000);
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return push;
}

function inputs(o: PushOptions): string[] {
  const w = o.width ?? 1280;
  const h = o.height ?? 720;
  const fps = o.fps ?? 30;
  const t = o.seconds !== undefined ? ['-t', String(o.seconds)] : [];
  const args = ['-re', ...t, '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`];
  if (o.audio ?? true) args.push('-re', ...t, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  return args;
}

function h264(o: PushOptions, preset = o.preset ?? 'veryfast'): string[] {
  const fps = o.fps ?? 30;
  const gop = Math.round(fps * (o.gopSeconds ?? 2));
  return [
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-b:v',
    '2500k',
  ];
}

const aac = ['-c:a', 'aac', '-b:a', '128k'];

/** One RTMP stream (OBS-style: server URL + stream key). */
export function pushRtmp(url: string, o: PushOptions = {}): Push {
  const audio = o.audio ?? true;
  return start(
    [...inputs(o), '-map', '0:v', ...(audio ? ['-map', '1:a', ...aac] : []), ...h264(o), '-f', 'flv', url],
    o.ffmpegPath,
  );
}

/** An SRT caller sending MPEG-TS. */
export function pushSrt(url: string, o: PushOptions = {}): Push {
  const audio = o.audio ?? true;
  return start(
    [...inputs(o), '-map', '0:v', ...(audio ? ['-map', '1:a', ...aac] : []), ...h264(o), '-f', 'mpegts', url],
    o.ffmpegPath,
  );
}

export interface Rendition {
  name: string;
  width: number;
  height: number;
  kbps: number;
}

/**
 * A multi-bitrate encoder: one FFmpeg that scales one source to every rendition
 * and pushes each as its own RTMP stream (`<base>/<name>`), keyframes aligned
 * (same frame count per GOP in every rendition). Audio goes with the first.
 */
export function pushRtmpRenditions(
  base: string,
  renditions: readonly Rendition[],
  o: PushOptions = {},
): Push {
  const top = renditions[0]!;
  const audio = o.audio ?? true;
  const args = [...inputs({ ...o, width: top.width, height: top.height })];
  const labels = renditions.map((_, i) => `[v${String(i)}]`);
  const chains = renditions.map(
    (r, i) => `[s${String(i)}]scale=${String(r.width)}:${String(r.height)}${labels[i]!}`,
  );
  args.push(
    '-filter_complex',
    `[0:v]split=${String(renditions.length)}${renditions.map((_, i) => `[s${String(i)}]`).join('')};${chains.join(';')}`,
  );
  renditions.forEach((r, i) => {
    args.push('-map', labels[i]!);
    if (i === 0 && audio) args.push('-map', '1:a', ...aac);
    args.push(...h264(o, 'ultrafast'), '-b:v', `${String(r.kbps)}k`, '-f', 'flv', `${base}/${r.name}`);
  });
  return start(args, o.ffmpegPath);
}
