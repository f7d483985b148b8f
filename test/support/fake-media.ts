/**
 * Stand-ins for the media path, for unit tests of the channel hub: a source that
 * emits the RTP it is told to, a router that makes such publishers and records
 * its plain-RTP consumers, and an encoder that records what it was asked to do.
 * No sockets, no FFmpeg.
 */
import type { ChannelConfig } from '../../server/core/runtime.ts';
import type {
  RtpCodec,
  RtpListener,
  SourceEvents,
  SourceState,
  SourceStats,
  SourceTrack,
} from '../../server/media/source.ts';
import { TypedEmitter } from '../../server/media/typed-emitter.ts';
import type {
  ChannelRouter,
  PlainRtpOptions,
  PlainRtpTransport,
  PublisherOptions,
  PublisherSession,
} from '../../server/sfu/engine.ts';
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
    playback: 'public',
    ...over,
  });
}

let nextId = 0;

export class FakeSource implements PublisherSession {
  readonly id = `src${nextId++}`;
  readonly kind = 'webrtc' as const;
  readonly engine = 'fake';
  readonly answer = 'v=0\r\n';
  readonly codecs: { video: RtpCodec; audio: RtpCodec | undefined };
  readonly tracks: readonly SourceTrack[];
  state: SourceState = 'connecting';
  liveSince: number | undefined;
  keyframeRequests = 0;
  readonly #events = new TypedEmitter<SourceEvents>();
  readonly #listeners = new Map<string, Set<RtpListener>>();
  bytes = 0;

  constructor(opts: { audio?: boolean } = {}) {
    const audio = opts.audio ?? true;
    this.codecs = { video: H264, audio: audio ? OPUS : undefined };
    this.tracks = [
      { id: 'video', kind: 'video', codec: H264, ssrc: 1111 },
      ...(audio ? [{ id: 'audio', kind: 'audio' as const, codec: OPUS, ssrc: 2222 }] : []),
    ];
  }

  goLive(): this {
    this.state = 'live';
    this.liveSince = Date.now();
    this.#events.emit('live');
    return this;
  }

  /** Sends one RTP packet with payload type `pt` on a track. */
  emit(trackId: string, pt = 102, size = 100): void {
    const packet = Buffer.alloc(size);
    packet[0] = 0x80;
    packet[1] = pt;
    this.bytes += size;
    for (const l of this.#listeners.get(trackId) ?? []) l(packet);
  }

  listenerCount(trackId: string): number {
    return this.#listeners.get(trackId)?.size ?? 0;
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    if (!this.tracks.some((t) => t.id === trackId)) throw new RangeError(`no track ${trackId}`);
    let set = this.#listeners.get(trackId);
    if (!set) this.#listeners.set(trackId, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  requestKeyframe(): void {
    this.keyframeRequests++;
  }

  stats(): SourceStats {
    return {
      tracks: this.tracks.map((t) => ({
        trackId: t.id,
        kind: t.kind,
        codec: t.codec.name,
        packets: 0,
        bytes: t.kind === 'video' ? this.bytes : 0,
        packetsLost: 0,
      })),
      width: 1280,
      height: 720,
      fps: 20,
    };
  }

  on<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.#listeners.clear();
    this.#events.emit('ended', reason);
    this.#events.removeAll();
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

export class FakeRouter implements ChannelRouter {
  readonly channelId: string;
  closed = false;
  readonly publishers: FakeSource[] = [];
  readonly transports: FakeTransport[] = [];
  readonly publisherOptions: PublisherOptions[] = [];
  /** Hold createPublisher until this resolves (to race two publishers). */
  gate: Promise<void> = Promise.resolve();

  constructor(channelId = 'ch_test') {
    this.channelId = channelId;
  }

  async createPublisher(opts: PublisherOptions): Promise<PublisherSession> {
    this.publisherOptions.push(opts);
    await this.gate;
    const source = new FakeSource({ audio: opts.withAudio });
    this.publishers.push(source);
    return source;
  }

  createPlainTransport(opts: PlainRtpOptions): PlainRtpTransport {
    const t = new FakeTransport(opts);
    this.transports.push(t);
    return t;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
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
