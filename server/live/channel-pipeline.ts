/**
 * The channel hub: pairs one publisher with its consumers (FFmpeg today; WHEP
 * viewers and a backup publisher later) and owns the channel's segment timeline.
 * Lifecycle: created when the channel starts, `close()` when it stops; close is
 * idempotent and cascades to the publisher session, FFmpeg and the indexer.
 */
import { existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import { LADDERS } from '../../lib/ladders.ts';
import type { Logger } from '../log.ts';
import { RunIndexer } from '../packager/segment-indexer.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from '../packager/hls.ts';
import { Timeline, type Run, type RunTrack, type TimelineView } from '../packager/timeline.ts';
import type { PublisherSession, SfuEngine } from '../sfu/engine.ts';
import type { ChannelRecord } from '../store/store.ts';
import { VideoProbe } from '../sfu/video-probe.ts';
import { Thumbnailer } from '../transcode/thumbnail.ts';
import { FfmpegRun, type EncoderProgress } from '../transcode/transcoder.ts';
import type { OfferSummary } from '../ingest/sdp.ts';

export interface PipelineDeps {
  engine: SfuEngine;
  ffmpegPath: string;
  mediaDir: string;
  liveWindowSegments: number;
  log: Logger;
  event: (type: string, message: string) => void;
  /** Longest archive window of the channel's running programs, in seconds (0 when none). */
  archiveWindowSeconds: () => number;
}

export interface IngestSample {
  at: number;
  kbps: number;
  fps: number | undefined;
}

const RESTART_BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

export class ChannelPipeline {
  readonly channelId: string;
  readonly liveDir: string;
  readonly timeline = new Timeline();
  /** The MPD's availabilityStartTime: fixed for the pipeline's life. */
  readonly startedAt = Date.now();
  channel: ChannelRecord;

  readonly #deps: PipelineDeps;
  readonly #log: Logger;
  #publisher: PublisherSession | undefined;
  #run: FfmpegRun | undefined;
  #indexer: RunIndexer | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartAttempt = 0;
  #runCounter = 0;
  #segmentsWritten = 0;
  #restarts = 0;
  #ended = false;
  #closed = false;
  #sampler: NodeJS.Timeout;
  #lastBytes = 0;
  #samples: IngestSample[] = [];
  #pendingRun: Promise<void> = Promise.resolve();
  #probe: VideoProbe | undefined;
  readonly #thumbnailer: Thumbnailer;

  constructor(channel: ChannelRecord, deps: PipelineDeps) {
    this.channel = channel;
    this.channelId = channel.id;
    this.#deps = deps;
    this.#log = deps.log.child({ channelId: channel.id });
    this.liveDir = path.join(deps.mediaDir, channel.id, 'live');
    this.#thumbnailer = new Thumbnailer(
      deps.ffmpegPath,
      path.join(deps.mediaDir, channel.id, 'thumbnail.jpg'),
    );
    this.#sampler = setInterval(() => this.#sample(), 1000);
    this.#sampler.unref();
  }

  get live(): boolean {
    return this.#publisher?.state === 'connected';
  }

  get ended(): boolean {
    return this.#ended;
  }

  thumbnailPath(): string | undefined {
    return this.#thumbnailer.path;
  }

  get expectedTracks(): number {
    return this.#run?.tracks.length ?? 0;
  }

  get segmentsWritten(): number {
    return this.#segmentsWritten;
  }

  get encoderProgress(): EncoderProgress | undefined {
    return this.#run?.progress;
  }

  get publisher(): PublisherSession | undefined {
    return this.#publisher;
  }

  findSession(sessionId: string): PublisherSession | undefined {
    return this.#publisher && this.#publisher.id === sessionId && this.#publisher.state !== 'closed'
      ? this.#publisher
      : undefined;
  }

  /** Takes a new publisher (WHIP). One live publisher per channel. */
  async publish(offer: string, summary: OfferSummary): Promise<PublisherSession> {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (this.#publisher && this.#publisher.state !== 'closed') {
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
    const ladder = LADDERS[this.channel.ladder];
    const topKbps = ladder.renditions[0]?.videoKbps ?? 3000;
    const session = await this.#deps.engine.createPublisher({
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
    if (this.#closed || (this.#publisher && this.#publisher.state !== 'closed')) {
      session.close('another publisher won the race');
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
    this.#publisher = session;
    this.#lastBytes = 0;
    const probe = new VideoProbe(session.codecs.video.name);
    this.#probe = probe;
    session.subscribe('video', (packet) => probe.push(packet));
    session.on('connected', () => {
      this.#deps.event(
        'publisher.connected',
        `publisher connected (${session.codecs.video.name}${session.codecs.audio ? ' + Opus' : ', no audio'})`,
      );
      this.#restartAttempt = 0;
      this.#queueRun(() => this.#startRun(session));
    });
    session.on('closed', (reason) => {
      this.#deps.event('publisher.disconnected', `publisher disconnected: ${reason}`);
      if (this.#publisher === session) this.#publisher = undefined;
      this.#queueRun(() => this.#stopRun());
    });
    return session;
  }

  /** Runs start and stop strictly one after the other. */
  #queueRun(step: () => Promise<void>): void {
    this.#pendingRun = this.#pendingRun
      .then(step)
      .catch((err: unknown) => this.#log.error({ err }, 'pipeline step failed'));
  }

  async #startRun(session: PublisherSession): Promise<void> {
    if (this.#closed || session.state !== 'connected' || this.#run) return;
    const runId = `r${Date.now().toString(36)}${(this.#runCounter++).toString(36)}`;
    const ladder = LADDERS[this.channel.ladder];
    this.timeline.beginRun(runId);
    this.#ended = false;
    let run: FfmpegRun;
    try {
      run = await FfmpegRun.start({
        ffmpegPath: this.#deps.ffmpegPath,
        ladder,
        mode: this.channel.mode,
        segmentSeconds: this.channel.segmentSeconds,
        liveDir: this.liveDir,
        runId,
        publisher: session,
        log: this.#log,
        onExit: (exit) => {
          if (exit.expected) return;
          this.#deps.event(
            'encoder.failed',
            `encoder exited unexpectedly (code ${exit.code ?? exit.signal}): ${exit.stderrTail || 'no output'}`,
          );
          this.#queueRun(async () => {
            await this.#finishRun();
            this.#scheduleRestart(session);
          });
        },
      });
    } catch (err) {
      this.timeline.endRun(runId);
      this.#deps.event('encoder.failed', `encoder failed to start: ${(err as Error).message}`);
      this.#scheduleRestart(session);
      return;
    }
    this.#run = run;
    this.#indexer = new RunIndexer({
      runDir: run.runDir,
      runId,
      timeline: this.timeline,
      tracks: run.tracks.map((t) =>
        this.channel.mode === 'passthrough' && t.kind === 'video'
          ? { id: t.id }
          : { id: t.id, bandwidth: t.bandwidth },
      ),
      onSegment: (trackId, segment) => {
        if (trackId === run.tracks[0]?.id) this.#segmentsWritten++;
        // Thumbnails come from the smallest rendition: the cheapest to decode.
        const smallest = run.tracks.filter((t) => t.kind === 'video').at(-1);
        const initUri = this.timeline.getRun(runId).tracks.get(trackId)?.initUri;
        if (trackId === smallest?.id && initUri) {
          this.#thumbnailer.offer(path.join(this.liveDir, initUri), path.join(this.liveDir, segment.uri));
        }
        this.#prune();
      },
      onError: (trackId, err) => this.#log.warn({ err, trackId }, 'segment could not be indexed'),
    }).start();
    this.#deps.event(
      'encoder.started',
      `encoder started (${this.channel.mode}, ${run.tracks.map((t) => t.id).join(' ')})`,
    );
  }

  #scheduleRestart(session: PublisherSession): void {
    if (this.#closed || session.state !== 'connected' || this.#restartTimer) return;
    const delay = RESTART_BACKOFF_MS[Math.min(this.#restartAttempt, RESTART_BACKOFF_MS.length - 1)]!;
    this.#restartAttempt++;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      this.#deps.event('encoder.restarted', `encoder restarting (attempt ${this.#restartAttempt})`);
      this.#queueRun(() => this.#startRun(session));
    }, delay);
  }

  async #stopRun(): Promise<void> {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (!this.#run) return;
    await this.#run.stop();
    await this.#finishRun();
    this.#deps.event('encoder.stopped', 'encoder stopped; waiting for a publisher');
  }

  /** After FFmpeg has exited: index the last segments and close the run. */
  async #finishRun(): Promise<void> {
    const run = this.#run;
    const indexer = this.#indexer;
    this.#run = undefined;
    this.#indexer = undefined;
    if (indexer) {
      await indexer.flush().catch(() => undefined);
      indexer.close();
    }
    if (run && this.timeline.hasRun(run.runId)) this.timeline.endRun(run.runId);
  }

  #prune(): void {
    const liveSeconds = this.#deps.liveWindowSegments * this.channel.segmentSeconds * 2;
    const keepSeconds = Math.max(liveSeconds, this.#deps.archiveWindowSeconds());
    const { uris, runIds } = this.timeline.prune(Date.now() - keepSeconds * 1000);
    for (const uri of uris) void rm(path.join(this.liveDir, uri), { force: true });
    for (const runId of runIds) void rm(path.join(this.liveDir, runId), { recursive: true, force: true });
  }

  #sample(): void {
    const p = this.#publisher;
    if (!p || p.state !== 'connected') return;
    const bytes = p.stats().reduce((n, t) => n + t.bytes, 0);
    const kbps = this.#lastBytes === 0 ? 0 : ((bytes - this.#lastBytes) * 8) / 1000;
    this.#lastBytes = bytes;
    this.#samples.push({ at: Date.now(), kbps: Math.max(0, Math.round(kbps)), fps: this.#probe?.fps() });
    if (this.#samples.length > 300) this.#samples.shift();
  }

  /** Live figures for GET /api/v1/channels/:id/stats. */
  stats() {
    const p = this.#publisher;
    const last = this.#samples[this.#samples.length - 1];
    const tracks = p?.stats() ?? [];
    return {
      live: this.live,
      ingest: p
        ? {
            engine: p.engine,
            state: p.state,
            videoCodec: p.codecs.video.name,
            audioCodec: p.codecs.audio?.name ?? null,
            width: this.#probe?.format?.width ?? null,
            height: this.#probe?.format?.height ?? null,
            fps: this.#probe?.fps() ?? null,
            kbps: last?.kbps ?? 0,
            packetsLost: tracks.reduce((n, t) => n + t.packetsLost, 0),
            packetsReceived: tracks.reduce((n, t) => n + t.packets, 0),
            connectedSince: p.connectedAt ? new Date(p.connectedAt).toISOString() : null,
          }
        : null,
      encoder: {
        running: this.#run?.running ?? false,
        mode: this.channel.mode,
        speed: this.#run?.progress.speed ?? null,
        fps: this.#run?.progress.fps ?? null,
        renditions: this.#run?.tracks.filter((t) => t.kind === 'video').map((t) => t.id) ?? [],
        restarts: this.#restarts,
      },
      output: {
        segments: this.#segmentsWritten,
        lastSegmentAt:
          this.timeline.lastSegmentAt() !== undefined
            ? new Date(this.timeline.lastSegmentAt()!).toISOString()
            : null,
        tracks: this.timeline.latestTracks(),
      },
      history: this.#samples.slice(-120),
    };
  }

  /**
   * What a program recorded: the segments since `since` (epoch ms). With `assetDir`,
   * they are also hard-linked there (the live window may prune its copies at any
   * time) with a VOD master and media playlists, so the recording outlives the channel.
   */
  recordedSince(since: number, assetDir?: string): { durationSeconds: number; bytes: number } {
    let bytes = 0;
    let seconds = 0;
    const full = this.timeline.window({ maxSegments: Number.MAX_SAFE_INTEGER });
    const runs: Run[] = [];
    for (const run of full.runs) {
      const tracks = new Map<string, RunTrack>();
      let counted = false;
      for (const [id, track] of run.tracks) {
        const segments = track.segments.filter((seg) => seg.pdt + 1 >= since);
        if (segments.length === 0) continue;
        tracks.set(id, { ...track, segments });
        for (const seg of segments) bytes += seg.bytes;
        if (!counted && track.info.kind === 'video') {
          counted = true;
          seconds += segments.reduce((n, seg) => n + seg.duration / track.info.timescale, 0);
        }
      }
      if (tracks.size > 0) runs.push({ ...run, ended: true, tracks });
    }
    if (assetDir && runs.length > 0) this.#archive({ runs }, assetDir);
    return { durationSeconds: seconds, bytes };
  }

  #archive(view: TimelineView, assetDir: string): void {
    try {
      const trackIds = new Set<string>();
      for (const run of view.runs) {
        for (const [id, track] of run.tracks) {
          trackIds.add(id);
          for (const uri of [track.initUri, ...track.segments.map((seg) => seg.uri)]) {
            const target = path.join(assetDir, uri);
            mkdirSync(path.dirname(target), { recursive: true });
            if (!existsSync(target)) linkSync(path.join(this.liveDir, uri), target);
          }
        }
      }
      const latest = view.runs.at(-1)!;
      writeFileSync(
        path.join(assetDir, 'master.m3u8'),
        renderHlsMaster([...latest.tracks.values()].map((t) => t.info)),
      );
      for (const id of trackIds) {
        const body = renderHlsMediaPlaylist(view, id, {
          targetDuration: this.channel.segmentSeconds,
          ended: true,
        });
        writeFileSync(path.join(assetDir, `${id}.m3u8`), body);
      }
    } catch (err) {
      this.#deps.event(
        'program.archive_failed',
        `the recording could not be archived: ${(err as Error).message}`,
      );
    }
  }

  /** Disconnects the publisher (its key was rotated) and forgets the live window. */
  async reset(channel: ChannelRecord): Promise<void> {
    this.channel = channel;
    this.#publisher?.close('channel reset');
    await this.#pendingRun;
    await this.#stopRun();
    this.#samples = [];
    const runs = this.timeline.prune(Number.MAX_SAFE_INTEGER);
    for (const runId of runs.runIds)
      await rm(path.join(this.liveDir, runId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sampler);
    this.#thumbnailer.close();
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#publisher?.close('channel stopped');
    await this.#pendingRun;
    await this.#stopRun();
    this.#ended = true;
  }
}
