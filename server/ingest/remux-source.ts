/**
 * An RTMP or SRT publisher as a MediaSource: one feed (a single stream), or
 * several (a multi-bitrate encoder's renditions, one video track each, audio
 * from the first rendition that has it). Everything downstream — the encoder's
 * plain-RTP link, WHEP viewers — sees RTP per track, as from a WebRTC publisher.
 *
 * Keyframes cannot be asked for: RTMP and SRT have no way back to the encoder,
 * whose own keyframe interval decides (the console says so).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type {
  MediaKind,
  MediaSource,
  SourceWarning,
  RtpCodec,
  RtpListener,
  SourceEvents,
  SourceKind,
  SourceState,
  SourceStats,
  SourceTrack,
} from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import type { RemuxFeed } from './remux-feed.ts';
import { REMUX_AUDIO_PT, REMUX_VIDEO_PT } from './remux-args.ts';

export interface RemuxSourceOptions {
  kind: Extract<SourceKind, 'rtmp' | 'srt'>;
  feeds: readonly RemuxFeed[];
  /** Several renditions: track ids are the feeds' names. */
  multiBitrate: boolean;
  log: Logger;
}

function videoCodec(feed: RemuxFeed): RtpCodec {
  return {
    kind: 'video',
    name: 'H264',
    payloadType: REMUX_VIDEO_PT,
    clockRate: 90000,
    fmtp: `packetization-mode=1;profile-level-id=${feed.profileLevelId ?? '42e01f'}`,
  };
}

const OPUS: RtpCodec = {
  kind: 'audio',
  name: 'OPUS',
  payloadType: REMUX_AUDIO_PT,
  clockRate: 48000,
  channels: 2,
  fmtp: 'minptime=10;useinbandfec=1',
};

interface TrackRoute {
  track: SourceTrack;
  feed: RemuxFeed;
  kind: MediaKind;
}

export class RemuxSource implements MediaSource {
  readonly id = randomBytes(12).toString('base64url');
  readonly kind: 'rtmp' | 'srt';
  readonly engine = 'ffmpeg';
  state: SourceState = 'connecting';
  liveSince: number | undefined;
  tracks: readonly SourceTrack[] = [];
  readonly multiBitrate: boolean;
  readonly #feeds: readonly RemuxFeed[];
  readonly #routes = new Map<string, TrackRoute>();
  readonly #events: TypedEmitter<SourceEvents>;
  readonly #log: Logger;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #warnings: string[] = [];

  constructor(opts: RemuxSourceOptions) {
    if (opts.feeds.length === 0) throw new RangeError('a source needs at least one feed');
    this.kind = opts.kind;
    this.multiBitrate = opts.multiBitrate;
    this.#feeds = opts.feeds;
    this.#log = opts.log;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'source listener failed'));
    this.#buildRoutes();
    for (const feed of opts.feeds) {
      const onReady = () => this.#maybeLive();
      feed.on('ready', onReady);
      this.#unsubscribe.push(() => feed.off('ready', onReady));
    }
    this.#maybeLive();
  }

  /** Tracks from the feeds: known in full once they flow (whether there is audio, the profile). */
  #buildRoutes(): void {
    this.#routes.clear();
    for (const feed of this.#feeds) {
      const id = this.multiBitrate ? feed.name : 'video';
      this.#routes.set(id, {
        track: { id, kind: 'video', codec: videoCodec(feed), ssrc: undefined },
        feed,
        kind: 'video',
      });
    }
    const audioFeed = this.#feeds.find((f) => f.hasAudio);
    if (audioFeed) {
      this.#routes.set('audio', {
        track: { id: 'audio', kind: 'audio', codec: OPUS, ssrc: undefined },
        feed: audioFeed,
        kind: 'audio',
      });
    }
    this.tracks = [...this.#routes.values()].map((r) => r.track);
  }

  /** The feeds it reads (for the multi-bitrate group). */
  get feeds(): readonly RemuxFeed[] {
    return this.#feeds;
  }

  #maybeLive(): void {
    if (this.state !== 'connecting' || !this.#feeds.every((f) => f.ready)) return;
    this.#buildRoutes();
    this.state = 'live';
    this.liveSince = Date.now();
    this.#events.emit('live');
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    const route = this.#routes.get(trackId);
    if (!route) throw new RangeError(`source ${this.id} has no track ${trackId}`);
    return route.feed.subscribe(route.kind, listener);
  }

  /** RTMP and SRT have no way to ask the encoder for a keyframe: its own interval decides. */
  requestKeyframe(): void {}

  /** Something the publisher should fix (misaligned keyframes), shown with the stats. */
  warn(kind: SourceWarning, message: string): void {
    if (this.#warnings.includes(message)) return;
    this.#warnings.push(message);
    if (this.#warnings.length > 5) this.#warnings.shift();
    this.#events.emit('warning', kind, message);
  }

  get warnings(): readonly string[] {
    return this.#warnings;
  }

  stats(): SourceStats {
    const tracks = [...this.#routes.values()].map((r) => {
      const c = r.feed.counters[r.kind];
      return {
        trackId: r.track.id,
        kind: r.kind,
        codec: r.track.codec.name,
        packets: c.packets,
        bytes: c.bytes,
        packetsLost: r.kind === 'video' ? (r.feed.transport?.packetsLost ?? 0) : 0,
      };
    });
    const top = this.#feeds[0]!;
    const transport = top.transport;
    return {
      tracks,
      width: top.probe.format?.width,
      height: top.probe.format?.height,
      fps: top.probe.fps(),
      transport: transport && {
        packetsLost: this.#feeds.reduce((n, f) => n + (f.transport?.packetsLost ?? 0), 0),
        packetsRetransmitted: this.#feeds.reduce((n, f) => n + (f.transport?.packetsRetransmitted ?? 0), 0),
        rttMs: transport.rttMs,
      },
      renditions: this.multiBitrate
        ? this.#feeds.map((f) => ({
            name: f.name,
            width: f.probe.format?.width ?? null,
            height: f.probe.format?.height ?? null,
            fps: f.probe.fps() ?? null,
            bytes: f.counters.video.bytes,
          }))
        : [],
      warnings: [...this.#warnings],
      gopMs: top.gopMs,
    };
  }

  on<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof SourceEvents>(event: E, listener: (...args: SourceEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Ends the source but leaves its feeds running: a multi-bitrate encoder's set of
   * renditions changed, and a new source takes the feeds that remain.
   */
  retire(reason: string): readonly RemuxFeed[] {
    if (this.state === 'ended') return [];
    this.#end(reason);
    return this.#feeds.filter((f) => !f.ended);
  }

  /** Ends the source and every feed (their remuxers and connections). Idempotent. */
  close(reason = 'closed'): void {
    if (this.state === 'ended') return;
    this.#end(reason);
    for (const f of this.#feeds) f.close(reason);
  }

  #end(reason: string): void {
    this.state = 'ended';
    for (const u of this.#unsubscribe) u();
    this.#log.debug({ sourceId: this.id, reason }, 'source ended');
    this.#events.emit('ended', reason);
    this.#events.removeAll();
  }
}
