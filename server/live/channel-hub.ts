/**
 * The channel hub: wiring, and nothing else. A source goes in; the SFU engine's
 * router makes the consumers (the plain-RTP link to the encoder, WHEP viewers);
 * the encoder supervisor runs FFmpeg; the live output indexes segments and keeps
 * the windows that programs need.
 *
 *   source ──▶ router ──▶ plain RTP ──▶ encoder (FFmpeg) ──▶ output (timeline) ──▶ origin
 *
 * Lifecycle: made when the channel starts; `close()` (idempotent) ends the
 * source, the encoder, the router and the output, in that order.
 */
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import { LADDERS } from '../../lib/ladders.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { ChannelLiveStats } from '../../lib/stats.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import type { OfferSummary } from '../media/sdp.ts';
import { describeSource, type MediaSource } from '../media/source.ts';
import type { LiveOutput, Recording } from '../packager/live-output.ts';
import type { ChannelRouter, PublisherSession } from '../sfu/engine.ts';
import type { Encoder, EncoderHooks, EncoderInput } from '../transcode/supervisor.ts';
import { IngestMeter } from './ingest-meter.ts';

/** Thumbnails of the live picture (transcode/thumbnail.ts). */
export interface Thumbnails {
  readonly path: string | undefined;
  offer(initPath: string, segmentPath: string): void;
  close(): void;
}

export interface ChannelHubDeps {
  config: ChannelConfig;
  router: ChannelRouter;
  createEncoder: (hooks: EncoderHooks) => Encoder;
  output: LiveOutput;
  thumbnails?: Thumbnails;
  log: Logger;
  event: (type: ChannelEventType, message: string) => void;
  /** Sampling period of the ingest meter (default 1000 ms; 0 turns sampling off). */
  sampleEveryMs?: number;
}

/** Encode mode: a keyframe now and then bounds how long a lost packet spoils the picture. */
const ENCODE_KEYFRAME_INTERVAL_MS = 10_000;

export class ChannelHub {
  readonly channelId: string;
  readonly output: LiveOutput;
  #config: ChannelConfig;
  readonly #deps: ChannelHubDeps;
  readonly #router: ChannelRouter;
  readonly #encoder: Encoder;
  readonly #meter = new IngestMeter();
  readonly #sessions = new Map<string, PublisherSession>();
  readonly #sampler: NodeJS.Timeout | undefined;
  #source: MediaSource | undefined;
  #closed = false;

  constructor(deps: ChannelHubDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.channelId = deps.config.id;
    this.#router = deps.router;
    this.output = deps.output;
    this.#encoder = deps.createEncoder({
      runStarted: (run) =>
        this.output.beginRun({
          runId: run.runId,
          runDir: run.runDir,
          // Passthrough video has no declared bitrate: the output measures it.
          tracks: run.tracks.map((t) =>
            this.#config.mode !== 'encode' && t.kind === 'video'
              ? { id: t.id }
              : { id: t.id, bandwidth: t.bandwidth },
          ),
        }),
      runEnded: (run) => this.output.endRun(run.runId),
    });
    const event = deps.event;
    this.#encoder.on('started', (run) =>
      event(
        'encoder.started',
        `encoder started (${this.#config.mode}, ${run.tracks.map((t) => t.id).join(' ')})`,
      ),
    );
    this.#encoder.on('stopped', () => event('encoder.stopped', 'encoder stopped; waiting for a publisher'));
    this.#encoder.on('failed', (message) => event('encoder.failed', message));
    this.#encoder.on('restarting', (attempt, delayMs) =>
      event('encoder.restarted', `encoder restarting in ${delayMs / 1000} s (attempt ${attempt})`),
    );
    this.output.on('segment', (trackId, segment, run) => {
      // Thumbnails come from the smallest rendition: the cheapest to decode.
      const smallest = run.tracks.filter((t) => t.id !== 'audio').at(-1);
      if (trackId !== smallest?.id || !deps.thumbnails) return;
      const initUri = this.output.timeline.getRun(run.runId).tracks.get(trackId)?.initUri;
      if (initUri) {
        deps.thumbnails.offer(
          path.join(this.output.liveDir, initUri),
          path.join(this.output.liveDir, segment.uri),
        );
      }
    });
    this.output.on('indexError', (trackId, err) =>
      deps.log.warn({ err, trackId, channelId: this.channelId }, 'segment could not be indexed'),
    );
    const every = deps.sampleEveryMs ?? 1000;
    if (every > 0) {
      this.#sampler = setInterval(() => this.#meter.sample(this.#source), every);
      this.#sampler.unref();
    }
  }

  get config(): ChannelConfig {
    return this.#config;
  }

  /** New settings (name, allow-lists, a rotated key); mode, ladder and segment length stay. */
  setConfig(config: ChannelConfig): void {
    this.#config = config;
  }

  /** A source is live and feeding the encoder. */
  get live(): boolean {
    return this.#source?.state === 'live';
  }

  get source(): MediaSource | undefined {
    return this.#source;
  }

  get closed(): boolean {
    return this.#closed;
  }

  thumbnailPath(): string | undefined {
    return this.#deps.thumbnails?.path;
  }

  findSession(sessionId: string): PublisherSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** A WHIP publisher: negotiated by the router, then attached as the channel's source. */
  async publish(
    offer: string,
    summary: OfferSummary,
    role: IngestRole = 'primary',
  ): Promise<PublisherSession> {
    this.#assertCanAttach();
    const ladder = LADDERS[this.#config.ladder];
    const topKbps = ladder.renditions[0]?.videoKbps ?? 3000;
    const session = await this.#router.createPublisher({
      offer,
      videoCodec: summary.videoCodec,
      withAudio: summary.audio !== undefined,
      bitrate: {
        min: Math.round(topKbps / 2),
        start: Math.round(topKbps * 0.8),
        max: Math.round(topKbps * 1.35),
      },
    });
    // Two POSTs may race: the second one to finish negotiating loses.
    try {
      this.#assertCanAttach();
    } catch (err) {
      session.close('another publisher won the race');
      throw err;
    }
    this.#sessions.set(session.id, session);
    session.on('ended', () => this.#sessions.delete(session.id));
    this.attach(session, role);
    return session;
  }

  #assertCanAttach(): void {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (this.#source && this.#source.state !== 'ended') {
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
  }

  /**
   * Makes `source` the channel's input in `role` (a WHIP, RTMP or SRT publisher
   * alike). One source at a time for now; a backup role is the redundant-ingest
   * seam (primary and backup at once, the output following one of them).
   */
  attach(source: MediaSource, role: IngestRole = 'primary'): void {
    void role;
    this.#assertCanAttach();
    this.#source = source;
    const onLive = () => {
      const video = source.tracks.find((t) => t.kind === 'video');
      const audio = source.tracks.find((t) => t.kind === 'audio');
      const videos = source.tracks.filter((t) => t.kind === 'video');
      const over = source.kind === 'rtmp' ? ' over RTMP' : source.kind === 'srt' ? ' over SRT' : '';
      const renditions = videos.length > 1 ? `, renditions ${videos.map((t) => t.id).join(' ')}` : '';
      this.#deps.event(
        'publisher.connected',
        `publisher connected${over} (${video?.codec.name ?? 'no video'}${audio ? ` + ${audio.codec.name === 'OPUS' ? 'Opus' : audio.codec.name}` : ', no audio'}${renditions})`,
      );
      const c = this.#config;
      this.#encoder.start(this.#encoderInput(source), {
        ladder: LADDERS[c.ladder],
        mode: c.mode,
        segmentSeconds: c.segmentSeconds,
      });
    };
    source.on('live', onLive);
    source.on('warning', (kind, message) => {
      if (kind === 'keyframes_misaligned') this.#deps.event('publisher.keyframes_misaligned', message);
    });
    source.on('ended', (reason) => {
      this.#deps.event('publisher.disconnected', `publisher disconnected: ${reason}`);
      if (this.#source !== source) return;
      this.#source = undefined;
      void this.#encoder.stop();
    });
    if (source.state === 'live') onLive();
  }

  #encoderInput(source: MediaSource): EncoderInput {
    const c = this.#config;
    return {
      description: describeSource(source),
      connect: (endpoint) =>
        this.#router.createPlainTransport({
          source,
          targets: endpoint.tracks.map((t) => ({ ...t, host: endpoint.host })),
          // Passthrough cuts segments where the publisher's keyframes are.
          keyframeIntervalMs: c.mode !== 'encode' ? c.segmentSeconds * 1000 : ENCODE_KEYFRAME_INTERVAL_MS,
        }),
    };
  }

  /** A program runs: the output keeps its archive window. */
  programStarted(programId: string, startedAt: number, windowSeconds: number): void {
    this.output.setWindow(programId, { since: startedAt, seconds: windowSeconds });
  }

  /** Whether a program's window is kept here (the program runs on this channel). */
  hasProgram(programId: string): boolean {
    return this.output.window(programId) !== undefined;
  }

  /** Program time (epoch ms) from which a running program's window holds segments now. */
  programSince(programId: string, now = Date.now()): number | undefined {
    const w = this.output.window(programId);
    return w ? Math.max(w.since, now - w.seconds * 1000) : undefined;
  }

  /** What a running program's window holds now. */
  programRecording(programId: string): Recording | undefined {
    const since = this.programSince(programId);
    return since === undefined ? undefined : this.output.recording(since);
  }

  /** A program stopped: its window is no longer kept (an asset holds what it needs). */
  programStopped(programId: string): void {
    this.output.deleteWindow(programId);
  }

  /** Live figures for GET /api/v1/channels/:id/stats. */
  stats(): ChannelLiveStats {
    const source = this.#source;
    const last = this.#meter.last;
    const encoder = this.#encoder;
    const progress = encoder.progress;
    const lastSegmentAt = this.output.timeline.lastSegmentAt();
    let ingest: ChannelLiveStats['ingest'] = null;
    if (source) {
      const s = source.stats();
      const video = source.tracks.find((t) => t.kind === 'video');
      const audio = source.tracks.find((t) => t.kind === 'audio');
      ingest = {
        source: source.kind,
        engine: source.engine,
        state: source.state,
        videoCodec: video?.codec.name ?? '',
        audioCodec: audio?.codec.name ?? null,
        width: s.width ?? null,
        height: s.height ?? null,
        fps: s.fps ?? null,
        kbps: last?.kbps ?? 0,
        packetsLost: s.transport?.packetsLost ?? s.tracks.reduce((n, t) => n + t.packetsLost, 0),
        packetsReceived: s.tracks.reduce((n, t) => n + t.packets, 0),
        packetsRetransmitted: s.transport?.packetsRetransmitted ?? null,
        rttMs: s.transport?.rttMs ?? null,
        keyframeIntervalMs: s.gopMs ?? null,
        renditions: (s.renditions ?? []).map(({ name, width, height, fps }) => ({
          name,
          width,
          height,
          fps,
        })),
        warnings: s.warnings ?? [],
        connectedSince: source.liveSince ? new Date(source.liveSince).toISOString() : null,
      };
    }
    return {
      live: this.live,
      ingest,
      encoder: {
        running: encoder.running,
        mode: this.#config.mode,
        speed: progress?.speed ?? null,
        fps: progress?.fps ?? null,
        renditions: encoder.tracks.filter((t) => t.kind === 'video').map((t) => t.id),
        restarts: encoder.restarts,
      },
      output: {
        segments: this.output.segmentsWritten,
        lastSegmentAt: lastSegmentAt !== undefined ? new Date(lastSegmentAt).toISOString() : null,
        tracks: this.output.timeline.latestTracks(),
      },
      history: this.#meter.history(),
    };
  }

  /** The stream key was rotated: the publisher goes, and so does the live window. */
  async reset(config: ChannelConfig): Promise<void> {
    this.#config = config;
    this.#source?.close('channel reset');
    await this.#encoder.stop();
    this.#meter.reset();
    await this.output.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#deps.thumbnails?.close();
    this.#source?.close('channel stopped');
    await this.#encoder.close();
    this.#router.close();
    await this.output.close();
  }
}
