/**
 * The channel hub: wiring, and nothing else (ARCHITECTURE.md). The source — a failover switcher
 * over the primary, backup and slate inputs, or a multi-bitrate encoder's renditions — goes to the
 * SFU router, which makes the consumers: the plain-RTP link to the encoder and the WHEP viewers.
 * The encoder supervisor runs FFmpeg; the live output indexes its segments and keeps the windows
 * that programs need. The hub is the output's one writer.
 *
 * Lifecycle: made when the channel starts; `close()` (idempotent) ends the viewers, the source, the
 * encoder, the router and the output, in that order.
 */
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import { LADDERS } from '../../lib/ladders.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { ChannelLiveStats } from '../../lib/stats.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import type { OfferSummary, ViewerOfferSummary } from '../media/sdp.ts';
import type { MediaSource } from '../media/source.ts';
import type { LiveOutput } from '../packager/live-output.ts';
import type { ChannelRouter, PublisherSession, ViewerSession } from '../sfu/engine.ts';
import type { FailoverSource, InputName, SessionCodecs } from '../source/failover-source.ts';
import type { Encoder, EncoderHooks } from '../transcode/supervisor.ts';
import { encoderInput, encoderSettings, inputSwitch } from './channel-input.ts';
import { ChannelViewers, type ViewerAccess } from './channel-viewers.ts';
import { reportEncoder } from './channel-events.ts';
import { channelStats } from './channel-stats.ts';
import { feedThumbnails, type Thumbnails } from './channel-thumbnails.ts';
import { encoderRuns } from './encoder-runs.ts';
import { IngestMeters } from './ingest-meter.ts';
import { assertCanAttach, publisherBitrate } from './publish-rules.ts';
import { ProgramWindows } from '../packager/program-windows.ts';
import { RenditionsInput } from './renditions-input.ts';

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

export class ChannelHub {
  readonly channelId: string;
  readonly output: LiveOutput;
  /** The archive windows of the programs running on this channel. */
  readonly programs: ProgramWindows;
  #config: ChannelConfig;
  readonly #deps: ChannelHubDeps;
  readonly #router: ChannelRouter;
  readonly #encoder: Encoder;
  readonly #meters: IngestMeters;
  readonly #sessions = new Map<string, PublisherSession>();
  #switch: FailoverSource;
  /** passthrough-abr: the renditions' source, fed to the encoder without the switcher. */
  readonly #renditions: RenditionsInput;
  readonly #viewers: ChannelViewers;
  #closed = false;

  constructor(deps: ChannelHubDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.channelId = deps.config.id;
    this.#router = deps.router;
    this.output = deps.output;
    this.#meters = new IngestMeters((role) => this.#input(role), deps.sampleEveryMs ?? 1000);
    this.programs = new ProgramWindows(deps.output);
    this.#viewers = new ChannelViewers({
      router: deps.router,
      maxViewers: deps.maxViewers ?? 200,
      ...(deps.viewerWaitMs !== undefined ? { waitForSourceMs: deps.viewerWaitMs } : {}),
      log: deps.log,
    });
    this.#encoder = deps.createEncoder(encoderRuns(this.output, () => this.#config.mode));
    reportEncoder(this.#encoder, deps.event, () => this.#config.mode);
    if (deps.thumbnails) feedThumbnails(this.output, deps.thumbnails);
    this.output.on('indexError', (trackId, err) =>
      deps.log.warn({ err, trackId, channelId: this.channelId }, 'segment could not be indexed'),
    );
    this.#switch = this.#newSwitch();
    this.#renditions = new RenditionsInput({
      event: deps.event,
      live: (source) => {
        this.#runEncoder(source);
        this.#viewers.setSource(source);
      },
      ended: () => {
        this.#meters.primary.reset();
        this.#viewers.setSource(undefined);
        void this.#encoder.stop();
      },
    });
  }

  /** The switcher over the inputs, wired to the encoder, the viewers and channel events. */
  #newSwitch(): FailoverSource {
    return inputSwitch({
      channelId: this.channelId,
      config: this.#config,
      log: this.#deps.log,
      event: this.#deps.event,
      ...(this.#deps.createSlate ? { createSlate: this.#deps.createSlate } : {}),
      inputDown: (name) => this.#meters[name].reset(),
      active: (sw) => {
        this.#startEncoder(sw);
        // Viewers follow the switcher (new codecs end the sessions that cannot take them).
        this.#viewers.setSource(undefined);
        this.#viewers.setSource(sw);
      },
      idle: () => {
        this.#viewers.setSource(undefined);
        void this.#encoder.stop();
      },
      switched: (sw, newRun) => {
        if (newRun) this.#startEncoder(sw);
      },
    });
  }

  #startEncoder(sw: FailoverSource): void {
    if (this.#closed || sw !== this.#switch) return;
    this.#runEncoder(sw);
  }

  #runEncoder(source: MediaSource): void {
    this.#encoder.start(encoderInput(this.#router, source, this.#config), encoderSettings(this.#config));
  }

  get config(): ChannelConfig {
    return this.#config;
  }

  /** New settings (name, allow-lists, a rotated key); mode, ladder and segment length stay. */
  setConfig(config: ChannelConfig): void {
    this.#config = config;
    // The preview allow-list or the playback mode may have changed.
    this.#viewers.recheck();
    this.#switch.configure({
      failoverAfterMs: config.failoverAfterMs,
      slateAfterMs: config.slateAfterMs,
      failback: config.failback,
    });
  }

  /** A publisher's media is on air (not the slate). */
  get live(): boolean {
    if (this.#config.mode === 'passthrough-abr') return this.#renditions.live;
    const a = this.#switch.active;
    return a === 'primary' || a === 'backup';
  }

  /** The channel's source: one continuous stream whichever input is on air (undefined before any). */
  get source(): MediaSource | undefined {
    if (this.#config.mode === 'passthrough-abr')
      return this.#renditions.live ? this.#renditions.source : undefined;
    return this.#switch.state === 'live' ? this.#switch : undefined;
  }

  /** The input in `role` (passthrough-abr: the renditions are the primary). */
  #input(role: IngestRole): MediaSource | undefined {
    if (this.#config.mode === 'passthrough-abr')
      return role === 'primary' ? this.#renditions.source : undefined;
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

  /**
   * A WHEP viewer of the channel's source, for as long as `access` lasts: 409
   * publisher_not_live without one, 503 at the limit.
   */
  watch(offer: string, summary: ViewerOfferSummary, access?: ViewerAccess): Promise<ViewerSession> {
    if (this.#closed) return Promise.reject(new OnairError('channel_not_running', 'channel is stopping'));
    return this.#viewers.add(offer, summary, access);
  }

  /** Ends the viewers whose access ended (the playback secret was rotated). */
  recheckViewers(): void {
    this.#viewers.recheck();
  }

  /** A WHIP publisher: negotiated by the router, then attached as the channel's input in `role`. */
  async publish(
    offer: string,
    summary: OfferSummary,
    role: IngestRole = 'primary',
  ): Promise<PublisherSession> {
    this.#assertCanAttach(role, summary);
    const session = await this.#router.createPublisher({
      offer,
      videoCodec: summary.videoCodec,
      withAudio: summary.audio !== undefined,
      bitrate: publisherBitrate(LADDERS[this.#config.ladder]),
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
    assertCanAttach(this.#switch, role, offer);
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
      if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
      this.#renditions.attach(source, role);
      return;
    }
    this.#assertCanAttach(role);
    this.#switch.setInput(role, source);
  }

  /** Live figures for GET /api/v1/channels/:id/stats. */
  stats(): ChannelLiveStats {
    const abr = this.#config.mode === 'passthrough-abr';
    return channelStats({
      mode: this.#config.mode,
      live: this.live,
      active: abr ? (this.#renditions.live ? 'primary' : undefined) : this.#switch.active,
      switcher: this.#switch,
      input: (role) => this.#input(role),
      healthy: (role) => (abr ? this.#input(role)?.state === 'live' : this.#switch.healthy(role)),
      meters: this.#meters,
      encoder: this.#encoder,
      output: this.output,
      viewers: this.#viewers.stats(),
    });
  }

  /** The stream key was rotated: the publisher goes, and so does the live window. */
  async reset(config: ChannelConfig): Promise<void> {
    this.#config = config;
    this.#viewers.closeAll('channel reset');
    const old = this.#switch;
    this.#switch = this.#newSwitch();
    old.close('channel reset');
    this.#renditions.close('channel reset');
    await this.#encoder.stop();
    this.#meters.reset();
    await this.output.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#meters.close();
    this.#deps.thumbnails?.close();
    this.#viewers.close();
    this.#switch.close('channel stopped');
    this.#renditions.close('channel stopped', true);
    await this.#encoder.close();
    this.#router.close();
    await this.output.close();
  }
}
