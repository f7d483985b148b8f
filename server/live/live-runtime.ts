/**
 * The media runtime: one ChannelHub per running channel, the SFU engine, and
 * the media endpoints (/whip, /whep, /live, /time). Implements what the control plane
 * needs (ChannelRuntime) and what the HTTP server mounts.
 */
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelEventType } from '../../lib/events.ts';
import { OFFLINE_STATS, type ChannelLiveStats } from '../../lib/stats.ts';
import type { Config } from '../config.ts';
import type { ChannelConfig, ChannelRuntime, RecordingSummary } from '../core/runtime.ts';
import { publicBaseUrl } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { whepMount } from '../egress/whep-endpoint.ts';
import { whipMount } from '../ingest/whip-endpoint.ts';
import type { Logger } from '../log.ts';
import type { Sample } from '../observability/metrics.ts';
import { liveMount, timeMount, type OriginChannel, type OriginChannelInfo } from '../origin/origin.ts';
import { LiveOutput } from '../packager/live-output.ts';
import type { SfuEngine } from '../sfu/engine.ts';
import { WeriftEngine } from '../sfu/werift/werift-engine.ts';
import type { ChannelRecord, ProgramRecord, Store } from '../store/store.ts';
import { EncoderSupervisor } from '../transcode/supervisor.ts';
import { Thumbnailer } from '../transcode/thumbnail.ts';
import { ChannelHub } from './channel-hub.ts';

export interface LiveRuntimeDeps {
  store: Store;
  config: Config;
  log: Logger;
  event: (channelId: string, type: ChannelEventType, message: string) => void;
  engine?: SfuEngine;
}

/** What the HTTP server needs beyond the control plane's runtime: endpoints and figures. */
export interface MediaRuntime extends ChannelRuntime {
  mounts(): MediaMount[];
  stats(channelId: string): ChannelLiveStats;
  metrics(): Sample[];
}

function offlineInfo(c: ChannelRecord): OriginChannelInfo {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    state: c.state,
    preview: c.preview,
    segmentSeconds: c.segmentSeconds,
  };
}

/** A running channel as the origin sees it. */
class OriginView implements OriginChannel {
  readonly #hub: ChannelHub;
  #info: OriginChannelInfo;

  constructor(hub: ChannelHub) {
    this.#hub = hub;
    this.#info = OriginView.info(hub.config);
  }

  static info(c: ChannelConfig): OriginChannelInfo {
    return Object.freeze({ ...c, state: 'running' as const });
  }

  refresh(): void {
    this.#info = OriginView.info(this.#hub.config);
  }

  get info(): OriginChannelInfo {
    return this.#info;
  }

  get output(): LiveOutput {
    return this.#hub.output;
  }

  get live(): boolean {
    return this.#hub.live;
  }

  thumbnailPath(): string | undefined {
    return this.#hub.thumbnailPath();
  }
}

interface RunningChannel {
  hub: ChannelHub;
  origin: OriginView;
}

export class LiveRuntime implements MediaRuntime {
  readonly #deps: LiveRuntimeDeps;
  readonly #engine: SfuEngine;
  readonly #channels = new Map<string, RunningChannel>();
  #closed = false;

  constructor(deps: LiveRuntimeDeps) {
    this.#deps = deps;
    this.#engine =
      deps.engine ??
      new WeriftEngine({
        log: deps.log.child({ component: 'sfu' }),
        iceServers: deps.config.iceServers,
        publicIp: deps.config.publicIp,
        portRange: deps.config.rtcPortRange,
        loopbackOnly: deps.config.loopbackOnlyIce,
      });
  }

  startChannel(config: ChannelConfig): Promise<void> {
    if (this.#channels.has(config.id)) return Promise.resolve();
    if (this.#closed) return Promise.reject(new OnairError('unavailable', 'the server is shutting down'));
    const { config: cfg, log } = this.#deps;
    const channelDir = path.join(cfg.mediaDir, config.id);
    const liveDir = path.join(channelDir, 'live');
    const channelLog = log.child({ channelId: config.id });
    const hub = new ChannelHub({
      config,
      router: this.#engine.createRouter(config.id),
      createEncoder: (hooks) =>
        new EncoderSupervisor({ ffmpegPath: cfg.ffmpegPath, liveDir, log: channelLog, hooks }),
      output: new LiveOutput({
        liveDir,
        liveWindowSegments: cfg.liveWindowSegments,
        segmentSeconds: config.segmentSeconds,
        log: channelLog,
      }),
      thumbnails: new Thumbnailer(cfg.ffmpegPath, path.join(channelDir, 'thumbnail.jpg')),
      log: channelLog,
      event: (type, message) => this.#deps.event(config.id, type, message),
      maxViewers: cfg.whepMaxViewers,
    });
    this.#channels.set(config.id, { hub, origin: new OriginView(hub) });
    return Promise.resolve();
  }

  async stopChannel(channelId: string): Promise<void> {
    const running = this.#channels.get(channelId);
    if (!running) return;
    await running.hub.close();
    this.#channels.delete(channelId);
  }

  async resetChannel(config: ChannelConfig): Promise<void> {
    const running = this.#channels.get(config.id);
    if (!running) return;
    await running.hub.reset(config);
    running.origin.refresh();
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.stopChannel(channelId);
    await rm(path.join(this.#deps.config.mediaDir, channelId), { recursive: true, force: true });
  }

  updateChannel(config: ChannelConfig): void {
    const running = this.#channels.get(config.id);
    if (!running) return;
    running.hub.setConfig(config);
    running.origin.refresh();
  }

  isLive(channelId: string): boolean {
    return this.#channels.get(channelId)?.hub.live ?? false;
  }

  programStarted(program: ProgramRecord): void {
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    this.#channels
      .get(program.channelId)
      ?.hub.programStarted(program.id, started, program.archiveWindowMinutes * 60);
  }

  programStopped(program: ProgramRecord, assetId: string): RecordingSummary {
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    // The archive window is what a program keeps: its last N minutes.
    const since = Math.max(started, Date.now() - program.archiveWindowMinutes * 60_000);
    const hub = this.#channels.get(program.channelId)?.hub;
    const recorded = hub?.programStopped(program.id, since, this.#assetDir(assetId));
    return {
      durationSeconds:
        recorded && recorded.durationSeconds > 0
          ? recorded.durationSeconds
          : Math.max(0, (Date.now() - started) / 1000),
      bytes: recorded?.bytes ?? 0,
    };
  }

  #assetDir(assetId: string): string {
    return path.join(this.#deps.config.mediaDir, 'assets', assetId);
  }

  async deleteAsset(assetId: string): Promise<void> {
    await rm(this.#assetDir(assetId), { recursive: true, force: true });
  }

  stats(channelId: string): ChannelLiveStats {
    return this.#channels.get(channelId)?.hub.stats() ?? OFFLINE_STATS;
  }

  metrics(): Sample[] {
    const ingest: Sample['values'] = [];
    const speed: Sample['values'] = [];
    const segments: Sample['values'] = [];
    const viewers: Sample['values'] = [];
    const viewerPackets: Sample['values'] = [];
    const viewerDrops: Sample['values'] = [];
    let live = 0;
    for (const [id, { hub }] of this.#channels) {
      const s = hub.stats();
      if (hub.live) live++;
      const labels = { channel: id };
      ingest.push({ labels, value: (s.ingest?.kbps ?? 0) * 1000 });
      speed.push({ labels, value: s.encoder?.speed ?? 0 });
      segments.push({ labels, value: s.output?.segments ?? 0 });
      viewers.push({ labels, value: s.viewers?.count ?? 0 });
      viewerPackets.push({ labels, value: s.viewers?.packetsSent ?? 0 });
      viewerDrops.push({ labels, value: s.viewers?.packetsDropped ?? 0 });
    }
    return [
      {
        name: 'onair_sfu_engine_info',
        help: 'The SFU engine that runs (value 1).',
        type: 'gauge',
        values: [{ labels: { engine: this.#engine.name }, value: 1 }],
      },
      {
        name: 'onair_ingest_bitrate_bits',
        help: 'Bitrate received from the publisher, bits/s.',
        type: 'gauge',
        values: ingest,
      },
      {
        name: 'onair_encoder_speed',
        help: "FFmpeg's speed (1.0 = real time).",
        type: 'gauge',
        values: speed,
      },
      {
        name: 'onair_segments_written_total',
        help: 'Segments written by the encoder since the channel started.',
        type: 'counter',
        values: segments,
      },
      {
        name: 'onair_whep_viewers',
        help: 'WebRTC (WHEP) viewer sessions now.',
        type: 'gauge',
        values: viewers,
      },
      {
        name: 'onair_whep_packets_sent_total',
        help: 'RTP packets forwarded to WebRTC viewers since the channel started.',
        type: 'counter',
        values: viewerPackets,
      },
      {
        name: 'onair_whep_packets_dropped_total',
        help: 'RTP packets not forwarded because a viewer could not take them.',
        type: 'counter',
        values: viewerDrops,
      },
      {
        name: 'onair_publishers_live',
        help: 'Channels with a connected publisher.',
        type: 'gauge',
        values: [{ value: live }],
      },
    ];
  }

  mounts(): MediaMount[] {
    const { store, config } = this.#deps;
    const offline = (id: string) => {
      const c = store.getChannel(id);
      return c ? offlineInfo(c) : undefined;
    };
    return [
      whipMount(
        {
          getChannel: (id) => {
            const running = this.#channels.get(id);
            if (running) return { ...running.hub.config, state: 'running' };
            return store.getChannel(id);
          },
          publish: (channelId, offer, summary) => {
            const running = this.#channels.get(channelId);
            if (!running) throw new OnairError('channel_not_running', 'channel is not running');
            return running.hub.publish(offer, summary);
          },
          findSession: (channelId, sessionId) => this.#channels.get(channelId)?.hub.findSession(sessionId),
        },
        { iceServers: config.iceServers, rateLimitPerMinute: config.whipRateLimitPerMinute },
      ),
      whepMount(
        {
          getChannel: (id) => {
            const running = this.#channels.get(id);
            if (running) return running.origin.info;
            return store.getChannel(id);
          },
          watch: (channelId, offer, summary) => {
            const running = this.#channels.get(channelId);
            if (!running) throw new OnairError('channel_not_running', 'channel is not running');
            return running.hub.watch(offer, summary);
          },
          findSession: (channelId, sessionId) => this.#channels.get(channelId)?.hub.findViewer(sessionId),
        },
        { iceServers: config.iceServers, rateLimitPerMinute: config.whepRateLimitPerMinute },
      ),
      liveMount({
        getLive: (id) => this.#channels.get(id)?.origin,
        getOffline: offline,
        liveWindowSegments: config.liveWindowSegments,
        publicUrl: (req: IncomingMessage) => publicBaseUrl(config, req),
      }),
      timeMount(),
    ];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#channels.values()].map(({ hub }) => hub.close()));
    this.#channels.clear();
    await this.#engine.close();
  }
}

export function createLiveRuntime(deps: LiveRuntimeDeps): LiveRuntime {
  return new LiveRuntime(deps);
}
