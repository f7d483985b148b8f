/**
 * Stand-ins for the media path, for unit tests of the channel hub: a source that
 * emits the RTP it is told to, a router that makes such publishers and records
 * its plain-RTP consumers, and an encoder that records what it was asked to do.
 * No sockets, no FFmpeg.
 */
import type { ChannelConfig } from '../../server/core/runtime.ts';
import { createLogger } from '../../server/log.ts';
import {
  SourceBase,
  trackStats,
  type RtpCodec,
  type SourceStats,
  type SourceTrack,
} from '../../server/media/source.ts';
import { TypedEmitter } from '../../server/media/typed-emitter.ts';
import type {
  ChannelRouter,
  PlainRtpOptions,
  PlainRtpTransport,
  PublisherOptions,
  PublisherSession,
  ViewerOptions,
  ViewerSession,
} from '../../server/sfu/engine.ts';
import { FanoutRegistry } from '../../server/sfu/fanout.ts';
import { ViewerBase, type ViewerFigures } from '../../server/sfu/viewer-base.ts';
import { ViewerForwarder } from '../../server/sfu/viewer-forwarder.ts';
import type { RunExit, RunTrack } from '../../server/transcode/ffmpeg-run.ts';
import type {
  Encoder,
  EncoderEvents,
  EncoderHooks,
  EncoderInput,
  EncoderRunInfo,
  EncoderSettings,
} from '../../server/transcode/supervisor.ts';

export const H264: RtpCodec = {
  kind: 'video',
  name: 'H264',
  payloadType: 102,
  clockRate: 90000,
  fmtp: 'packetization-mode=1',
};
export const OPUS: RtpCodec = {
  kind: 'audio',
  name: 'OPUS',
  payloadType: 111,
  clockRate: 48000,
  channels: 2,
  fmtp: '',
};

export function channelConfig(over: Partial<ChannelConfig> = {}): ChannelConfig {
  return Object.freeze({
    id: 'ch_test',
    name: 'test',
    description: '',
    mode: 'encode',
    ladder: '720p',
    segmentSeconds: 2,
    streamKey: 'sk_test',
    ingest: [],
    preview: [],
    srtLatencyMs: 120,
    srtPort: null,
    srtBackupPort: null,
    playback: 'public',
    latency: 'low',
    failoverAfterMs: 1000,
    slateAfterMs: 2000,
    failback: 'manual',
    ...over,
  });
}

let nextId = 0;
const silent = createLogger('silent');

export class FakeSource extends SourceBase implements PublisherSession {
  readonly id = `src${nextId++}`;
  readonly kind = 'webrtc' as const;
  readonly engine = 'fake';
  readonly answer = 'v=0\r\n';
  readonly codecs: { video: RtpCodec; audio: RtpCodec | undefined };
  readonly tracks: readonly SourceTrack[];
  keyframeRequests = 0;
  bytes = 0;

  /** H.264 keyframes carry this SPS (a STAP-A of SPS + IDR), as an encoder with those settings would. */
  readonly #sps: number[] | undefined;

  constructor(opts: { audio?: boolean; video?: RtpCodec; sps?: number[] } = {}) {
    super();
    const audio = opts.audio ?? true;
    const video = opts.video ?? H264;
    this.#sps = opts.sps;
    this.codecs = { video, audio: audio ? OPUS : undefined };
    this.tracks = [
      { id: 'video', kind: 'video', codec: video, ssrc: 1111 },
      ...(audio ? [{ id: 'audio', kind: 'audio' as const, codec: OPUS, ssrc: 2222 }] : []),
    ];
  }

  protected override noTrack(trackId: string): string {
    return `no track ${trackId}`;
  }

  #seq = 100;
  #ts = 1000;

  /** An RTP packet with a real header and an H.264 (keyframe or not) or Opus payload. */
  packet(kind: 'video' | 'audio', opts: { key?: boolean; marker?: boolean } = {}): Buffer {
    const vp8 = this.codecs.video.name === 'VP8';
    const payload =
      kind === 'audio'
        ? [0xfc, 0]
        : vp8
          ? [0x10, opts.key ? 0x00 : 0x01, 0x00, 0x00, 0x9d, 0x01, 0x2a]
          : opts.key
            ? this.#sps
              ? [0x18, 0, this.#sps.length, ...this.#sps, 0, 3, 0x65, 0x88, 0x84]
              : [0x65, 0x88, 0x84]
            : [0x41, 0x9a];
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (kind === 'video' ? 102 : 111) | (opts.marker ? 0x80 : 0);
    b.writeUInt16BE(this.#seq++ & 0xffff, 2);
    b.writeUInt32BE((this.#ts += kind === 'video' ? 4500 : 960), 4);
    b.writeUInt32BE(kind === 'video' ? 1111 : 2222, 8);
    Buffer.from(payload).copy(b, 12);
    return b;
  }

  /** Sends a real RTP packet on a track (what a publisher's media looks like to the channel). */
  send(trackId: 'video' | 'audio', opts: { key?: boolean } = {}): void {
    const p = this.packet(trackId, opts);
    this.bytes += p.length;
    this.deliver(trackId, p);
  }

  /** Live, and a first keyframe sent (the channel goes on air at a keyframe). */
  goLive(): this {
    this.goneLive();
    this.send('video', { key: true });
    return this;
  }

  /** Sends one RTP packet with payload type `pt` on a track. */
  emit(
    trackId: string,
    pt = 102,
    size = 100,
    opts: { seq?: number; ts?: number; payload?: number[] } = {},
  ): void {
    const packet = Buffer.alloc(size);
    packet[0] = 0x80;
    packet[1] = pt;
    packet.writeUInt16BE(opts.seq ?? 0, 2);
    packet.writeUInt32BE(opts.ts ?? 0, 4);
    packet.writeUInt32BE(this.tracks.find((t) => t.id === trackId)?.ssrc ?? 0, 8);
    if (opts.payload) Buffer.from(opts.payload).copy(packet, 12);
    this.bytes += size;
    const kind = this.tracks.find((t) => t.id === trackId)?.kind;
    if (kind) this.deliver(kind, packet);
  }

  requestKeyframe(): void {
    this.keyframeRequests++;
  }

  stats(): SourceStats {
    return {
      tracks: trackStats(this.tracks, {
        video: { packets: 0, bytes: this.bytes },
        audio: { packets: 0, bytes: 0 },
      }),
      width: 1280,
      height: 720,
      fps: 20,
    };
  }
}

export class FakeTransport implements PlainRtpTransport {
  readonly opts: PlainRtpOptions;
  readonly received: { trackId: string; payloadType: number }[] = [];
  closedWith: { bye?: boolean } | undefined;
  readonly #unsubscribe: (() => void)[];

  constructor(opts: PlainRtpOptions) {
    this.opts = opts;
    this.#unsubscribe = opts.targets.map((t) =>
      opts.source.subscribe(t.trackId, (p) =>
        this.received.push({ trackId: t.trackId, payloadType: p[1]! & 0x7f }),
      ),
    );
    opts.source.requestKeyframe();
  }

  get packets(): number {
    return this.received.length;
  }

  close(opts: { bye?: boolean } = {}): void {
    if (this.closedWith) return;
    this.closedWith = opts;
    for (const u of this.#unsubscribe) u();
  }
}

export const VP8: RtpCodec = { kind: 'video', name: 'VP8', payloadType: 96, clockRate: 90000, fmtp: '' };

/** What a fake viewer was sent: kind, rewritten sequence number and timestamp, payload bytes. */
export interface SentPacket {
  kind: string;
  seq: number;
  ts: number;
  payload: Buffer;
}

/** A viewer whose forwarding is real (ViewerForwarder) and whose "network" is an array. */
export class FakeViewer extends ViewerBase {
  override readonly id = `viewer${nextId++}`;
  override readonly answer = 'v=0\r\n';
  readonly sent: SentPacket[] = [];
  readonly forwarder: ViewerForwarder;
  closeReason: string | undefined;

  constructor(opts: ViewerOptions, fanouts: FanoutRegistry) {
    super(silent, {});
    this.forwarder = new ViewerForwarder({
      tracks: opts.source.tracks.map((t) => ({ kind: t.kind, codec: t.codec })),
      target: {
        send: (kind, seq, ts, _marker, payload) => {
          this.sent.push({ kind, seq, ts, payload: Buffer.from(payload) });
          return true;
        },
      },
      fanouts,
    });
    this.forwarder.setSource(opts.source);
  }

  get source() {
    return this.forwarder.source;
  }

  /** ICE and DTLS are up: forwarding begins. */
  connect(): this {
    this.connected(() => this.forwarder.start());
    return this;
  }

  setSource(source: Parameters<ViewerSession['setSource']>[0]): boolean {
    return this.forwarder.setSource(source);
  }

  protected figures(): ViewerFigures {
    const c = this.forwarder.counters;
    return {
      packetsSent: c.packetsSent,
      bytesSent: c.bytesSent,
      packetsDropped: c.packetsDropped,
      packetsNacked: 0,
      keyframeRequests: c.keyframeRequests,
    };
  }

  protected release(reason: string): void {
    this.closeReason = reason;
    this.forwarder.close();
  }
}

export class FakeRouter implements ChannelRouter {
  readonly channelId: string;
  closed = false;
  readonly publishers: FakeSource[] = [];
  readonly transports: FakeTransport[] = [];
  readonly publisherOptions: PublisherOptions[] = [];
  readonly viewers: FakeViewer[] = [];
  readonly fanouts = new FanoutRegistry((err) => {
    throw err;
  });
  /** Hold createPublisher until this resolves (to race two publishers). */
  gate: Promise<void> = Promise.resolve();
  /** Hold createViewer until this resolves. */
  viewerGate: Promise<void> = Promise.resolve();
  /** The video codec the next publishers send. */
  publisherCodec: RtpCodec = H264;

  constructor(channelId = 'ch_test') {
    this.channelId = channelId;
  }

  async createPublisher(opts: PublisherOptions): Promise<PublisherSession> {
    this.publisherOptions.push(opts);
    await this.gate;
    const source = new FakeSource({ audio: opts.withAudio, video: this.publisherCodec });
    this.publishers.push(source);
    return source;
  }

  createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport {
    const t = new FakeTransport(opts);
    this.transports.push(t);
    return t;
  }

  async createViewer(opts: ViewerOptions): Promise<ViewerSession> {
    await this.viewerGate;
    const v = new FakeViewer(opts, this.fanouts);
    this.viewers.push(v);
    return v;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const v of this.viewers) v.close('channel stopped');
    for (const t of this.transports) t.close({ bye: true });
    for (const p of this.publishers) p.close('channel stopped');
  }
}

/** An encoder that starts "runs" at once and connects their input, as the supervisor would. */
export class FakeEncoder implements Encoder {
  readonly hooks: EncoderHooks;
  readonly calls: string[] = [];
  readonly #events = new TypedEmitter<EncoderEvents>();
  input: EncoderInput | undefined;
  settings: EncoderSettings | undefined;
  link: ReturnType<EncoderInput['connect']> | undefined;
  run: EncoderRunInfo | undefined;
  restarts = 0;
  closed = false;
  #counter = 0;

  constructor(hooks: EncoderHooks) {
    this.hooks = hooks;
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  get progress() {
    return this.run ? { speed: 1, fps: 20, frame: 1, outTimeMs: 0, updatedAt: Date.now() } : undefined;
  }

  get tracks(): readonly RunTrack[] {
    return this.run?.tracks ?? [];
  }

  on<E extends keyof EncoderEvents>(event: E, listener: (...args: EncoderEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  start(input: EncoderInput, settings: EncoderSettings): void {
    this.calls.push('start');
    this.input = input;
    this.settings = settings;
    const tracks: RunTrack[] = [
      ...settings.ladder.renditions.map((r) => ({
        id: r.name,
        kind: 'video' as const,
        bandwidth: r.videoKbps * 1000,
      })),
      ...(input.description.tracks.some((t) => t.kind === 'audio')
        ? [{ id: 'audio', kind: 'audio' as const, bandwidth: 128000 }]
        : []),
    ];
    const runId = `rfake${this.#counter++}`;
    this.run = { runId, runDir: `/nonexistent/${runId}`, tracks, startedAt: Date.now() };
    this.hooks.runStarted(this.run);
    this.link = input.connect({
      host: '127.0.0.1',
      tracks: input.description.tracks.map((t, i) => ({
        trackId: t.id,
        port: 40000 + i * 2,
        payloadType: t.kind === 'video' ? 96 : 111,
      })),
    });
    this.#events.emit('started', this.run);
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    this.link?.close({ bye: true });
    const exit: RunExit = { code: 0, signal: null, expected: true, stderrTail: '' };
    await this.hooks.runEnded(run, exit);
    this.#events.emit('stopped', run);
  }

  /** The run dies by itself (FFmpeg crashed). */
  async crash(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    this.link?.close({ bye: false });
    await this.hooks.runEnded(run, { code: 1, signal: null, expected: false, stderrTail: 'boom' });
    this.#events.emit('failed', 'encoder exited unexpectedly (code 1): boom');
  }

  async close(): Promise<void> {
    this.calls.push('close');
    await this.stop();
    this.closed = true;
  }
}
