/**
 * The slate as a source: FFmpeg encodes a still image and silence in real time
 * into the channel's codecs and sends RTP to two sockets on loopback that this
 * source owns; the packets are handed out like any publisher's. `close()` kills
 * FFmpeg and closes the sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import { bindLoopback } from '../media/loopback.ts';
import { readRtpHeader } from '../media/rtp.ts';
import type {
  MediaKind,
  MediaSource,
  RtpCodec,
  RtpListener,
  SourceEvents,
  SourceState,
  SourceStats,
  SourceTrack,
} from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import { buildSlateArgs } from './slate-args.ts';

export interface SlateSourceOptions {
  ffmpegPath: string;
  image: string;
  video: RtpCodec;
  audio: RtpCodec | undefined;
  log: Logger;
  /** Owns the slate's FFmpeg. */
  children: ChildRegistry;
}

export class SlateSource implements MediaSource {
  readonly id = `slate-${randomBytes(6).toString('hex')}`;
  readonly kind = 'slate' as const;
  readonly engine = 'ffmpeg';
  readonly tracks: readonly SourceTrack[];
  state: SourceState = 'connecting';
  liveSince: number | undefined;
  readonly #opts: SlateSourceOptions;
  readonly #events: TypedEmitter<SourceEvents>;
  readonly #listeners: Record<MediaKind, Set<RtpListener>> = { video: new Set(), audio: new Set() };
  readonly #counts: Record<MediaKind, { packets: number; bytes: number }> = {
    video: { packets: 0, bytes: 0 },
    audio: { packets: 0, bytes: 0 },
  };
  readonly #sockets: Socket[] = [];
  #child: ChildProcess | undefined;

  constructor(opts: SlateSourceOptions) {
    this.#opts = opts;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'slate listener failed'));
    const tracks: SourceTrack[] = [{ id: 'video', kind: 'video', codec: { ...opts.video }, ssrc: undefined }];
    if (opts.audio) tracks.push({ id: 'audio', kind: 'audio', codec: { ...opts.audio }, ssrc: undefined });
    this.tracks = tracks;
    void this.#start().catch((err: unknown) => {
      opts.log.error({ err }, 'the slate could not start');
      this.close('the slate could not start');
    });
  }

  async #start(): Promise<void> {
    const { video, audio } = this.#opts;
    const v = await bindLoopback();
    this.#sockets.push(v);
    const a = audio ? await bindLoopback() : undefined;
    if (a) this.#sockets.push(a);
    if (this.state === 'ended') return this.#closeSockets();
    v.on('message', (m) => this.#onPacket('video', m));
    a?.on('message', (m) => this.#onPacket('audio', m));
    const args = buildSlateArgs({
      image: this.#opts.image,
      video: video.name === 'VP8' ? 'VP8' : 'H264',
      audio: audio !== undefined,
      videoPort: v.address().port,
      audioPort: a?.address().port,
      videoPayloadType: video.payloadType,
      audioPayloadType: audio?.payloadType ?? 111,
    });
    const child = this.#opts.children.add(
      spawn(this.#opts.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }),
      'slate',
    );
    this.#child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => (stderr = (stderr + c).slice(-1000)));
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      if (this.state !== 'ended')
        this.close(`the slate encoder exited (${code ?? signal}): ${stderr.trim()}`);
    });
  }

  #onPacket(kind: MediaKind, packet: Buffer): void {
    // RTCP (FFmpeg sends its reports to port + 1, which may be the other socket) is not media.
    if (this.state === 'ended' || !readRtpHeader(packet) || (packet[1]! >= 192 && packet[1]! <= 223)) return;
    this.#counts[kind].packets++;
    this.#counts[kind].bytes += packet.length;
    if (this.state === 'connecting' && kind === 'video') {
      this.state = 'live';
      this.liveSince = Date.now();
      this.#events.emit('live');
    }
    for (const l of this.#listeners[kind]) l(packet);
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    const kind = this.tracks.find((t) => t.id === trackId)?.kind;
    if (!kind) throw new RangeError(`the slate has no track ${trackId}`);
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  /** The slate sends a keyframe every second anyway. */
  requestKeyframe(): void {}

  stats(): SourceStats {
    return {
      tracks: this.tracks.map((t) => ({
        trackId: t.id,
        kind: t.kind,
        codec: t.codec.name,
        packets: this.#counts[t.kind].packets,
        bytes: this.#counts[t.kind].bytes,
        packetsLost: 0,
      })),
      width: 1280,
      height: 720,
      fps: 10,
    };
  }

  on<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  #closeSockets(): void {
    for (const s of this.#sockets) s.close();
    this.#sockets.length = 0;
  }

  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.#child?.kill('SIGKILL');
    this.#closeSockets();
    this.#listeners.video.clear();
    this.#listeners.audio.clear();
    this.#events.emit('ended', reason);
    this.#events.removeAll();
  }
}
