/**
 * One FFmpeg child that reads a publisher's FLV (RTMP) or MPEG-TS (SRT) on
 * stdin and sends it as RTP to UDP sockets this object holds on loopback
 * (argv: remux-args.ts). The sockets are bound before FFmpeg starts, so nothing
 * is lost at the start and no port can be taken by someone else meanwhile.
 *
 * Lifecycle: `close()` (idempotent) ends stdin, then SIGTERM, then SIGKILL; the
 * sockets close when the process has exited. `exited` resolves either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import { MediaError } from '../media/errors.ts';
import { bindLoopback } from '../media/loopback.ts';
import type { MediaKind } from '../media/source.ts';
import { buildRemuxArgs, REMUX_AUDIO_PT, REMUX_VIDEO_PT } from './remux-args.ts';

export interface RemuxerOptions {
  ffmpegPath: string;
  input: 'flv' | 'mpegts';
  audio: boolean;
  log: Logger;
  /** Owns the remuxer's FFmpeg. */
  children: ChildRegistry;
  /** Called for every RTP packet (RTCP is dropped). The buffer is only valid during the call. */
  onRtp: (kind: MediaKind, packet: Buffer) => void;
}

export interface RemuxerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

export class RtpRemuxer {
  readonly ssrc: Record<MediaKind, number>;
  readonly #child: ChildProcess;
  readonly #sockets: Socket[];
  readonly exited: Promise<RemuxerExit>;
  #stderr: string[] = [];
  #closing = false;
  #done = false;
  bytesIn = 0;

  private constructor(child: ChildProcess, sockets: Socket[], ssrc: Record<MediaKind, number>) {
    this.#child = child;
    this.#sockets = sockets;
    this.ssrc = ssrc;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr.push(...chunk.split('\n').filter(Boolean));
      if (this.#stderr.length > 20) this.#stderr = this.#stderr.slice(-20);
    });
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#done = true;
        for (const s of this.#sockets) s.close();
        resolve({ code, signal, stderrTail: this.#stderr.slice(-4).join(' | ') });
      });
    });
  }

  static async start(opts: RemuxerOptions): Promise<RtpRemuxer> {
    const sockets: Socket[] = [];
    try {
      sockets.push(await bindLoopback());
      if (opts.audio) sockets.push(await bindLoopback());
    } catch (err) {
      for (const s of sockets) s.close();
      throw new MediaError('port_unavailable', 'no loopback UDP port for the RTP of a publisher', {
        cause: err,
      });
    }
    // FFmpeg takes the SSRC as a signed 32-bit option.
    const ssrc = { video: randomInt(1, 0x7fffffff), audio: randomInt(1, 0x7fffffff) };
    const port = (s: Socket) => s.address().port;
    const args = buildRemuxArgs({
      input: opts.input,
      video: { port: port(sockets[0]!), payloadType: REMUX_VIDEO_PT, ssrc: ssrc.video },
      ...(opts.audio
        ? { audio: { port: port(sockets[1]!), payloadType: REMUX_AUDIO_PT, ssrc: ssrc.audio } }
        : {}),
    });
    const kinds: MediaKind[] = ['video', 'audio'];
    sockets.forEach((s, i) => {
      const kind = kinds[i]!;
      s.on('message', (msg: Buffer) => {
        if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
        const pt = msg[1]! & 0x7f;
        if (pt >= 72 && pt <= 76) return; // RTCP (200–204 with the marker bit)
        opts.onRtp(kind, msg);
      });
    });
    const child = spawn(opts.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    if (spawned) {
      for (const s of sockets) s.close();
      throw new MediaError('encoder_failed', `cannot run ${opts.ffmpegPath}: ${spawned.message}`, {
        cause: spawned,
      });
    }
    opts.children.add(child, 'remuxer');
    opts.log.debug({ args: args.join(' '), pid: child.pid }, 'remuxer started');
    return new RtpRemuxer(child, sockets, ssrc);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return !this.#done;
  }

  /** Input bytes for FFmpeg; false when its pipe is full (the caller may drop or wait). */
  write(chunk: Buffer): boolean {
    if (this.#closing || this.#done || !this.#child.stdin?.writable) return false;
    this.bytesIn += chunk.length;
    return this.#child.stdin.write(chunk);
  }

  /** Ends the process (idempotent). Resolves once it has exited. */
  close(): Promise<RemuxerExit> {
    if (!this.#closing) {
      this.#closing = true;
      if (!this.#done) {
        this.#child.stdin?.end();
        // End of input ends FFmpeg at once; the signals are for a stuck one.
        const term = setTimeout(() => this.#child.kill('SIGTERM'), 1000);
        const kill = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
        void this.exited.then(() => {
          clearTimeout(term);
          clearTimeout(kill);
        });
      }
    }
    return this.exited;
  }
}
