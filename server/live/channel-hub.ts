/**
 * The channel hub: wiring, and nothing else. A source goes in; the SFU engine's
 * router makes the consumers (the plain-RTP link to the encoder, WHEP viewers);
 * the encoder supervisor runs FFmpeg; the live output indexes segments and keeps
 * the windows that programs need.
 *
 *   inputs ──▶ failover ──▶ router ──▶ plain RTP ──▶ encoder (FFmpeg) ──▶ output ──▶ origin
 *   (primary,                  └────▶ viewers (WHEP, channel-viewers.ts)
 *    backup, slate)
 *
 * The channel's source is a failover switcher over a primary and a backup input
 * (WHIP, RTMP, SRT publishers alike) and a slate: the encoder and viewers see one
 * continuous stream whichever input is on air.
 *
 * Lifecycle: made when the channel starts; `close()` (idempotent) ends the
 * viewers, the source, the encoder, the router and the output, in that order.
 */
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import { LADDERS } from '../../lib/ladders.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { ChannelLiveStats, InputHealth } from '../../lib/stats.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import type { OfferSummary, ViewerOfferSummary } from '../media/sdp.ts';
import { describeSource, type MediaSource } from '../media/source.ts';
import type { LiveOutput, Recording } from '../packager/live-output.ts';
import type { ChannelRouter, PublisherSession, ViewerSession } from '../sfu/engine.ts';
import {
  FailoverSource,
  type InputName,
  type SessionCodecs,
  type SwitchEvent,
} from '../source/failover-source.ts';
import type { Encoder, EncoderHooks, EncoderInput } from '../transcode/supervisor.ts';
import { ChannelViewers } from './channel-viewers.ts';
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
  /** The slate input (a still image and silence in the session's codecs). */
  createSlate?: (codecs: SessionCodecs) => MediaSource;
  /** WebRTC viewers at once (default 200). */
  maxViewers?: number;
  /** How long viewers wait for a publisher to come back (default 30 s). */
  viewerWaitMs?: number;
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
  readonly #meters: Record<IngestRole, IngestMeter> = {
    primary: new IngestMeter(),
    backup: new IngestMeter(),
  };
  readonly #sessions = new Map<string, PublisherSession>();
  readonly #sampler: NodeJS.Timeout | undefined;
  #switch: FailoverSource;
  /** passthrough-abr: the renditions' source, fed to the encoder without the switcher. */
  #renditions: MediaSource | undefined;
  readonly #viewers: ChannelViewers;
  #closed = false;

  constructor(deps: ChannelHubDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.channelId = deps.config.id;
    this.#router = deps.router;
    this.output = deps.output;
    this.#viewers = new ChannelViewers({
      router: deps.router,
      maxViewers: deps.maxViewers ?? 200,
      ...(deps.viewerWaitMs !== undefined ? { waitForSourceMs: deps.viewerWaitMs } : {}),
      log: deps.log,
    });
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
    this.#switch = this.#newSwitch();
    const every = deps.sampleEveryMs ?? 1000;
    if (every > 0) {
      this.#sampler = setInterval(() => {
        for (const role of ['primary', 'backup'] as const) this.#meters[role].sample(this.#input(role));
      }, every);
      this.#sampler.unref();
    }
  }

  /** The switcher over the inputs, wired to the encoder and to channel events. */
  #newSwitch(): FailoverSource {
    const c = this.#config;
    const sw = new FailoverSource({
      id: `${this.channelId}-input`,
      log: this.#deps.log,
      failoverAfterMs: c.failoverAfterMs,
      slateAfterMs: c.slateAfterMs,
      failback: c.failback,
      ...(this.#deps.createSlate ? { createSlate: this.#deps.createSlate } : {}),
    });
    const event = this.#deps.event;
    sw.on('input', (name, state, detail) => {
      if (state === 'live') {
        const source = sw.input(name);
        const video = source?.tracks.find((t) => t.kind === 'video');
        const audio = source?.tracks.find((t) => t.kind === 'audio');
        event(
          'publisher.connected',
          `${name} publisher connected (${detail}: ${video?.codec.name ?? 'no video'}${audio ? ` + ${audio.codec.name === 'OPUS' ? 'Opus' : audio.codec.name}` : ', no audio'})`,
        );
      } else {
        event('publisher.disconnected', `${name} publisher disconnected: ${detail}`);
        if (name !== 'slate') this.#meters[name].reset();
      }
    });
    sw.on('active', () => {
      this.#startEncoder(sw);
      // Viewers follow the switcher (new codecs end the sessions that cannot take them).
      this.#viewers.setSource(undefined);
      this.#viewers.setSource(sw);
    });
    sw.on('idle', () => {
      this.#viewers.setSource(undefined);
      void this.#encoder.stop();
    });
    sw.on('switched', (e) => this.#switched(sw, e));
    return sw;
  }

  #startEncoder(sw: FailoverSource): void {
    if (this.#closed || sw !== this.#switch) return;
    const c = this.#config;
    this.#encoder.start(this.#encoderInput(sw), {
      ladder: LADDERS[c.ladder],
      mode: c.mode,
      segmentSeconds: c.segmentSeconds,
    });
  }

  #switched(sw: FailoverSource, e: SwitchEvent): void {
    const event = this.#deps.event;
    // Passthrough copies the publisher's H.264: other parameter sets need a new run (a discontinuity).
    const newRun = e.reconfigured && this.#config.mode === 'passthrough';
    const note = newRun ? ' (its encoder settings differ: a new encoder run, with a discontinuity)' : '';
    const gap = e.gapMs === null ? '' : `; ${(e.gapMs / 1000).toFixed(1)} s without media`;
    if (e.to === 'slate') {
      event('slate.on', `no input: viewers see the slate (${e.reason}${gap})${note}`);
    } else if (e.from === 'slate') {
      event('slate.off', `the slate ends: ${e.to} is on air${note}`);
      event('input.restored', `${e.to} is on air again (${e.reason})`);
    } else if (e.to === 'primary' && e.from === 'backup') {
      event('input.restored', `back to the primary (${e.reason})${note}`);
    } else {
      event('input.failover', `${e.to} is on air instead of ${e.from} (${e.reason}${gap})${note}`);
    }
    if (newRun) this.#startEncoder(sw);
  }

  get config(): ChannelConfig {
    return this.#config;
  }

  /** New settings (name, allow-lists, a rotated key); mode, ladder and segment length stay. */
  setConfig(config: ChannelConfig): void {
    this.#config = config;
    this.#switch.configure({
      failoverAfterMs: config.failoverAfterMs,
      slateAfterMs: config.slateAfterMs,
      failback: config.failback,
    });
  }

  /** A publisher's media is on air (not the slate). */
  get live(): boolean {
    if (this.#config.mode === 'passthrough-abr') return this.#renditions?.state === 'live';
    const a = this.#switch.active;
    return a === 'primary' || a === 'backup';
  }

  /** The channel's source: one continuous stream whichever input is on air (undefined before any). */
  get source(): MediaSource | undefined {
    if (this.#config.mode === 'passthrough-abr')
      return this.#renditions?.state === 'live' ? this.#renditions : undefined;
    return this.#switch.state === 'live' ? this.#switch : undefined;
  }

  /** The input in `role` (passthrough-abr: the renditions are the primary). */
  #input(role: IngestRole): MediaSource | undefined {
    if (this.#config.mode === 'passthrough-abr') return role === 'primary' ? this.#renditions : undefined;
    return this.#switch.input(role);
  }

  /** The input on air. */
  get activeInput(): InputName | undefined {
    return this.#switch.active;
  }

  /** An operator's switch to `to` (default: the other input); 409 when it sends nothing. */
  switchInput(to?: IngestRole): InputName {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    return this.#switch.switchTo(to);
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

  findViewer(sessionId: string): ViewerSession | undefined {
    return this.#viewers.find(sessionId);
  }

  /** A WHEP viewer of the channel's source: 409 publisher_not_live without one, 503 at the limit. */
  watch(offer: string, summary: ViewerOfferSummary): Promise<ViewerSession> {
    if (this.#closed) return Promise.reject(new OnairError('channel_not_running', 'channel is stopping'));
    return this.#viewers.add(offer, summary);
  }

  /** A WHIP publisher: negotiated by the router, then attached as the channel's input in `role`. */
  async publish(
    offer: string,
    summary: OfferSummary,
    role: IngestRole = 'primary',
  ): Promise<PublisherSession> {
    this.#assertCanAttach(role, summary);
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
      this.#assertCanAttach(role, summary);
    } catch (err) {
      session.close('another publisher won the race');
      throw err;
    }
    this.#sessions.set(session.id, session);
    session.on('ended', () => this.#sessions.delete(session.id));
    this.attach(session, role);
    return session;
  }

  #assertCanAttach(role: IngestRole, offer?: Pick<OfferSummary, 'videoCodec' | 'audio'>): void {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (!this.#switch.available(role)) {
      throw new OnairError(
        'publisher_exists',
        `channel already has a live ${role} publisher; end that session first`,
      );
    }
    // Both inputs feed one encoder run: they must send the same codecs.
    const session = this.#switch.active ? this.#switch.session : undefined;
    if (offer && session) {
      if (offer.videoCodec !== session.video.name) {
        throw new OnairError(
          'unsupported_offer',
          `the channel is on air with ${session.video.name} video; the ${role} input must send ${session.video.name} too`,
        );
      }
      if ((offer.audio === undefined) !== (session.audio === undefined)) {
        throw new OnairError(
          'unsupported_offer',
          `the channel is on air ${session.audio ? 'with' : 'without'} audio; the ${role} input must match`,
        );
      }
    }
  }

  /**
   * Makes `source` the channel's input in `role` (a WHIP, RTMP or SRT publisher
   * alike): the primary, or the backup the output switches to when the primary fails.
   */
  attach(source: MediaSource, role: IngestRole = 'primary'): void {
    source.on('warning', (kind, message) => {
      if (kind === 'keyframes_misaligned') this.#deps.event('publisher.keyframes_misaligned', message);
    });
    if (this.#config.mode === 'passthrough-abr') {
      this.#attachRenditions(source, role);
      return;
    }
    this.#assertCanAttach(role);
    this.#switch.setInput(role, source);
  }

  /**
   * passthrough-abr: a multi-bitrate encoder's renditions (one source, a video
   * track each) feed the encoder directly. The failover switcher carries one
   * picture; a ladder the encoder made has several, so these channels have one input.
   */
  #attachRenditions(source: MediaSource, role: IngestRole): void {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (role !== 'primary') {
      throw new OnairError(
        'validation_failed',
        'a multi-bitrate passthrough channel has one input: publish its renditions to the primary',
      );
    }
    if (this.#renditions && this.#renditions.state !== 'ended') {
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
    this.#renditions = source;
    const onLive = () => {
      if (this.#closed || this.#renditions !== source) return;
      const videos = source.tracks.filter((t) => t.kind === 'video');
      const audio = source.tracks.find((t) => t.kind === 'audio');
      const over = source.kind === 'rtmp' ? 'rtmp' : source.kind;
      this.#deps.event(
        'publisher.connected',
        `primary publisher connected (${over}: ${videos[0]?.codec.name ?? 'no video'}${audio ? ` + ${audio.codec.name === 'OPUS' ? 'Opus' : audio.codec.name}` : ', no audio'}, renditions ${videos.map((t) => t.id).join(' ')})`,
      );
      const c = this.#config;
      this.#encoder.start(this.#encoderInput(source), {
        ladder: LADDERS[c.ladder],
        mode: c.mode,
        segmentSeconds: c.segmentSeconds,
      });
      this.#viewers.setSource(source);
    };
    source.on('live', onLive);
    source.on('ended', (reason) => {
      this.#deps.event('publisher.disconnected', `primary publisher disconnected: ${reason}`);
      if (this.#renditions !== source) return;
      this.#renditions = undefined;
      this.#meters.primary.reset();
      this.#viewers.setSource(undefined);
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
    const active =
      this.#config.mode === 'passthrough-abr'
        ? this.#renditions?.state === 'live'
          ? 'primary'
          : undefined
        : this.#switch.active;
    const switched = this.#switch.lastSwitch;
    const role: IngestRole | undefined =
      active === 'primary' || active === 'backup'
        ? active
        : this.#input('primary')
          ? 'primary'
          : this.#input('backup')
            ? 'backup'
            : undefined;
    const source = role ? this.#input(role) : undefined;
    const last = role ? this.#meters[role].last : undefined;
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
    const health = (r: IngestRole): InputHealth | null => {
      const src = this.#input(r);
      if (!src) return null;
      const st = src.stats();
      return {
        source: src.kind,
        state: src.state,
        healthy: this.#config.mode === 'passthrough-abr' ? src.state === 'live' : this.#switch.healthy(r),
        onAir: active === r,
        videoCodec: src.tracks.find((t) => t.kind === 'video')?.codec.name ?? '',
        width: st.width ?? null,
        height: st.height ?? null,
        fps: st.fps ?? null,
        kbps: this.#meters[r].last?.kbps ?? 0,
        packetsLost: st.transport?.packetsLost ?? st.tracks.reduce((n, t) => n + t.packetsLost, 0),
        connectedSince: src.liveSince ? new Date(src.liveSince).toISOString() : null,
      };
    };
    return {
      live: this.live,
      ingest,
      inputs: {
        active: active ?? null,
        primary: health('primary'),
        backup: health('backup'),
        switches: this.#switch.switches,
        slateSeconds: Math.round(this.#switch.slateMs / 100) / 10,
        lastSwitch: switched
          ? {
              from: switched.from,
              to: switched.to,
              reason: switched.reason,
              at: new Date(switched.at).toISOString(),
              gapMs: switched.gapMs,
            }
          : null,
      },
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
      viewers: this.#viewers.stats(),
      history: (role ? this.#meters[role] : this.#meters.primary).history(),
    };
  }

  /** The stream key was rotated: the publisher goes, and so does the live window. */
  async reset(config: ChannelConfig): Promise<void> {
    this.#config = config;
    this.#viewers.closeAll('channel reset');
    const old = this.#switch;
    this.#switch = this.#newSwitch();
    old.close('channel reset');
    this.#renditions?.close('channel reset');
    this.#renditions = undefined;
    await this.#encoder.stop();
    this.#meters.primary.reset();
    this.#meters.backup.reset();
    await this.output.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#deps.thumbnails?.close();
    this.#viewers.close();
    this.#switch.close('channel stopped');
    this.#renditions?.close('channel stopped');
    await this.#encoder.close();
    this.#router.close();
    await this.output.close();
  }
}
